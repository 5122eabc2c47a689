"""What the local store's directory may contain: no symlinks, reserved names, case folding,
and a platform without ``fcntl``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3opstore.errors import InvalidKeyError, ObjectNotFoundError, UnsafePathError
from s3opstore.stores import IfMatch, LocalStore, ObjectStore
from s3opstore.stores.local_fs import decode_segment, encode_segment, is_case_insensitive
from tests.stores.raw_hooks import LocalRaw, local_store


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(directory.rglob("*"))}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    place = tmp_path / "outside"
    place.mkdir()
    (place / "secret").write_bytes(b"keep me")
    return place


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store", case_insensitive=False)  # created now


ACTIONS: dict[str, Callable[[ObjectStore, str], object]] = {
    "get": lambda s, k: s.get(k),
    "head": lambda s, k: s.head(k),
    "download": lambda s, k: s.download(k, io.BytesIO()),
    "create": lambda s, k: s.put(k, b"evil", mode="create"),
    "overwrite": lambda s, k: s.put(k, b"evil"),
    "cas": lambda s, k: s.put(k, b"evil", mode=IfMatch('"x"')),
    "upload": lambda s, k: s.upload(k, io.BytesIO(b"evil"), size=4),
    "delete": lambda s, k: s.delete(k),
}


@pytest.mark.parametrize("action", ACTIONS, ids=list(ACTIONS))
def test_a_planted_symlinked_directory_is_refused(store: LocalStore, outside: Path,
                                                  action: str) -> None:
    (store.root / "ops").mkdir()
    (store.root / "ops" / "m").symlink_to(outside, target_is_directory=True)
    before = _snapshot(outside)
    with pytest.raises(UnsafePathError) as info:
        ACTIONS[action](store, "ops/m/secret")
    assert "ops/m" in info.value.message and info.value.status == 502
    with pytest.raises(UnsafePathError):
        ACTIONS[action](store, "ops/m/new/deeper")
    assert _snapshot(outside) == before


@pytest.mark.parametrize("action", ACTIONS, ids=list(ACTIONS))
def test_a_planted_symlinked_file_is_refused(store: LocalStore, outside: Path,
                                             action: str) -> None:
    store.put("a/real", b"x")
    (store.root / "a" / "secret").symlink_to(outside / "secret")
    (store.root / "a" / "dangling").symlink_to(outside / "nothing-yet")
    before = _snapshot(outside)
    for key in ("a/secret", "a/dangling"):
        with pytest.raises(UnsafePathError):
            ACTIONS[action](store, key)
    assert _snapshot(outside) == before
    assert (store.root / "a" / "secret").is_symlink()


def test_listings_do_not_follow_symlinks(store: LocalStore, outside: Path) -> None:
    store.put("ops/real/head.json", b"{}")
    (store.root / "ops" / "m").symlink_to(outside, target_is_directory=True)
    (store.root / "ops" / "real" / "s").symlink_to(outside / "secret")
    assert [i.key for i in store.list("ops/")] == ["ops/real/head.json"]
    assert store.list_dirs("ops/") == ["real"]
    with pytest.raises(UnsafePathError):
        list(store.list("ops/m/"))
    with pytest.raises(UnsafePathError):
        store.list_dirs("ops/m/")


def test_a_symlinked_temp_or_lock_directory_is_refused(tmp_path: Path, outside: Path) -> None:
    for scratch in (".s3opstore-tmp", ".s3opstore-locks"):
        root = tmp_path / scratch
        store = LocalStore(root, case_insensitive=False)  # created now
        os.rmdir(root / scratch)
        (root / scratch).symlink_to(outside, target_is_directory=True)
        before = _snapshot(outside)
        with pytest.raises(UnsafePathError):
            store.put("k", b"evil")
        with pytest.raises(UnsafePathError):
            store.upload("k", io.BytesIO(b"evil"), size=4)
        with pytest.raises(UnsafePathError):
            LocalStore(root)
        assert _snapshot(outside) == before
        assert store.head("k") is None


@pytest.mark.parametrize("key", [".s3opstore-tmp/x", ".s3opstore-locks/" + "0" * 64,
                                 ".s3opstore-layout", "a/.hidden"])
def test_the_store_s_own_names_are_not_keys(store: LocalStore, key: str) -> None:
    before = _snapshot(store.root)
    for action in ("get", "overwrite", "create", "upload", "delete"):
        with pytest.raises(InvalidKeyError):
            ACTIONS[action](store, key)
    assert list(store.list(".s3opstore-tmp/")) == []
    assert _snapshot(store.root) == before


# -- case-insensitive file systems --------------------------------------------------------
SEGMENT = st.text(alphabet="ABCXYZabcxyz019._~=+-", min_size=1, max_size=12)


@given(st.lists(SEGMENT, min_size=2, max_size=6, unique=True))
def test_escaped_segments_are_kept_apart_by_case_folding_and_reversible(
        segments: list[str]) -> None:
    encoded = [encode_segment(s) for s in segments]
    assert len({e.casefold() for e in encoded}) == len(segments)
    assert all(e == e.lower() for e in encoded)
    assert [decode_segment(e) for e in encoded] == segments


def test_names_no_key_encodes_to_are_not_keys() -> None:
    assert [decode_segment(n) for n in ("Model", "^", "a^", "^1", "^^a")] == [None] * 5


def test_this_file_system_is_probed_as_case_sensitive(tmp_path: Path) -> None:
    """The probe's real answer here (Linux, case-sensitive); no case-insensitive file
    system can be mounted on this machine (no vfat, no casefold support in tmpfs)."""
    assert is_case_insensitive(str(tmp_path)) is False
    assert os.listdir(tmp_path) == []  # the probe cleans up after itself


def test_a_case_folded_store_keeps_model_and_model_apart(tmp_path: Path) -> None:
    """The mapping really runs: on disk every name is lower-case and distinct under
    case folding, so a case-insensitive file system would keep the keys apart too.
    Selected with the test-only flag; a reopened store keeps the recorded layout."""
    root = tmp_path / "store"
    store = LocalStore(root, case_insensitive=True)
    assert store.case_folded
    store.put("ops/Model/head.json", b"upper", mode="create")
    store.put("ops/model/head.json", b"lower", mode="create")
    store.upload("ops/MODEL/blobs/Ab", io.BytesIO(b"blob"), size=4)
    on_disk = [str(p.relative_to(root)) for p in root.rglob("*")
               if not p.name.startswith(".") and ".s3opstore" not in str(p)]
    assert all(name == name.lower() for name in on_disk)
    assert len({n.casefold() for n in on_disk}) == len(on_disk)
    reopened = LocalStore(root)
    assert reopened.case_folded
    for s in (store, reopened):
        assert s.get("ops/Model/head.json").data == b"upper"
        assert s.get("ops/model/head.json").data == b"lower"
        with pytest.raises(ObjectNotFoundError):
            s.get("ops/MoDel/head.json")
        assert [i.key for i in s.list("ops/")] == [
            "ops/MODEL/blobs/Ab", "ops/Model/head.json", "ops/model/head.json"]
        assert [i.key for i in s.list("ops/Mo")] == ["ops/Model/head.json"]
        assert s.list_dirs("ops/") == ["MODEL", "Model", "model"]
        assert s.list_dirs("ops/MODEL/") == ["blobs"]
    reopened.delete("ops/Model/head.json")
    assert store.head("ops/Model/head.json") is None
    assert store.get("ops/model/head.json").data == b"lower"


def test_a_plain_store_with_keys_is_not_reused_on_a_case_insensitive_system(
        tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    (root / "ops").mkdir()  # written before the layout was recorded
    with pytest.raises(UnsafePathError) as info:
        LocalStore(root, case_insensitive=True)
    assert "case-insensitive" in info.value.message
    assert not LocalStore(root).case_folded  # on this (case-sensitive) system: fine


class TestCaseFoldedConformance(LocalRaw):
    """The whole shipped conformance suite, through the escaped layout."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> ObjectStore:
        store = local_store(tmp_path, case_insensitive=True)
        assert store.case_folded
        return store


# -- no fcntl ------------------------------------------------------------------------------
def test_import_and_open_work_without_fcntl(tmp_path: Path) -> None:
    script = """
import sys
sys.modules["fcntl"] = None  # as on Windows: importing it fails
import s3opstore
from s3opstore import OpStore
from s3opstore.errors import UnsafeStoreError
store = OpStore.from_url(None)
print(store.url)
try:
    store.store.put("k", b"v")
except UnsafeStoreError as exc:
    print("typed:", exc.kind)
print(sorted(p.name for p in (store.store.root / ".s3opstore-tmp").iterdir()))
"""
    env = {k: v for k, v in os.environ.items() if k != "S3OPSTORE_URL"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    url, typed, left = done.stdout.splitlines()
    assert url == (tmp_path / ".s3opstore").resolve().as_uri()
    assert typed == "typed: unsafe_store"
    assert left == "[]"  # the refused write left no temp file
