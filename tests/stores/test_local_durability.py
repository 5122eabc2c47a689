"""The local store's durability: directory fsyncs after visible steps, typed OS errors."""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from s3opstore.api import ApiRequest, handle
from s3opstore.errors import (
    StorageAccessError,
    StorageError,
    StorageFullError,
    StorageUnavailableError,
)
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import IfMatch, LocalStore, PutMode, local, local_fs

Event = tuple[str, int, int]  # (what, inode of the directory or file, source inode or 0)


class Recorder:
    """Logs the directory-changing calls and every fsync, in order, by inode."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_dir: str) -> None:
        self.events: list[Event] = []
        self.tmp_ino = os.stat(tmp_dir).st_ino
        real_fsync, real_link, real_replace = os.fsync, os.link, os.replace
        real_unlink, real_mkdir = os.unlink, os.mkdir

        def parent(path: Any) -> int:
            return os.stat(os.path.dirname(os.fspath(path))).st_ino

        def fsync(fd: int) -> None:
            info = os.fstat(fd)
            kind = "fsync-dir" if stat.S_ISDIR(info.st_mode) else "fsync-file"
            self.events.append((kind, info.st_ino, 0))
            real_fsync(fd)

        def link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            source = os.stat(src).st_ino
            real_link(src, dst, *args, **kwargs)
            self.events.append(("link", parent(dst), source))

        def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            source = os.stat(src).st_ino
            real_replace(src, dst, *args, **kwargs)
            self.events.append(("replace", parent(dst), source))

        def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
            where = parent(path)
            real_unlink(path, *args, **kwargs)
            if where != self.tmp_ino:  # dropping our own temp name publishes nothing
                self.events.append(("unlink", where, 0))

        def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
            real_mkdir(path, *args, **kwargs)
            self.events.append(("mkdir", parent(path), 0))

        for name, fn in (("fsync", fsync), ("link", link), ("replace", replace),
                         ("unlink", unlink), ("mkdir", mkdir)):
            monkeypatch.setattr(os, name, fn)

    def unsynced(self) -> list[Event]:
        """Visible steps with no later fsync of their directory, or whose source file
        was not fsynced before it was linked or renamed into place."""
        bad = []
        for index, (what, directory, source) in enumerate(self.events):
            if what.startswith("fsync"):
                continue
            if ("fsync-dir", directory, 0) not in self.events[index + 1:]:
                bad.append((what, directory, source))
            if source and ("fsync-file", source, 0) not in self.events[:index]:
                bad.append((what + "-unsynced-source", directory, source))
        return bad

    def visible(self) -> list[str]:
        return [what for what, _, _ in self.events if not what.startswith("fsync")]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    # A forced layout creates the directory now (otherwise the first write does), so the
    # recorder sees only the steps of the writes under test.
    return LocalStore(tmp_path / "store", case_insensitive=False)


@pytest.fixture
def recorder(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return Recorder(monkeypatch, str(store.root / ".s3opstore-tmp"))


WRITES: dict[str, Callable[[LocalStore], object]] = {
    "create in new directories": lambda s: s.put("ops/m/versions/v/e.json", b"x", mode="create"),
    "overwrite": lambda s: s.put("k/obj", b"new"),
    "compare-and-swap": lambda s: s.put("k/obj", b"swapped", mode=IfMatch(s.get("k/obj").etag)),
    "upload": lambda s: s.upload("ops/m/blobs/sha256/" + "a" * 64, io.BytesIO(b"b" * 3_000_000),
                                 size=3_000_000),
    "delete": lambda s: s.delete("k/obj"),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_visible_step_is_followed_by_an_fsync_of_its_directory(
        store: LocalStore, recorder: Recorder, write: str) -> None:
    """What this proves: each link, rename, unlink and mkdir that a write makes is
    followed, before the call returns, by an fsync of the very directory (by inode)
    it changed, and linked or renamed data was fsynced first. That is the ordering
    POSIX asks for so that power loss cannot undo an acknowledged write.

    What it cannot prove: that the kernel, file system and disk honour fsync; no
    power is cut here (that needs root-only fault devices such as dm-flakey).
    """
    store.put("k/obj", b"old")
    recorder.events.clear()
    WRITES[write](store)
    assert recorder.visible(), "the write made no visible step at all"
    assert recorder.unsynced() == []


def test_new_directories_are_synced_up_to_the_root(store: LocalStore,
                                                   recorder: Recorder) -> None:
    store.put("a/b/c/d/obj", b"x", mode="create")
    assert recorder.visible() == ["mkdir"] * 4 + ["link"]
    assert recorder.unsynced() == []
    root_ino = store.root.stat().st_ino
    assert ("fsync-dir", root_ino, 0) in recorder.events


def test_the_recorder_catches_a_missing_directory_fsync(
        store: LocalStore, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: with the directory fsync removed, as before, it does."""
    monkeypatch.setattr(local, "fsync_dir", lambda path: None)
    monkeypatch.setattr(local_fs, "fsync_dir", lambda path: None)
    store.put("x/obj", b"x", mode="create")
    store.put("x/obj", b"y")
    assert [what for what, _, _ in recorder.unsynced()] == ["mkdir", "link", "replace"]


# -- a full disk and other OS errors --------------------------------------------------------
def _failing_write(code: int) -> Callable[[int, bytes], None]:
    real = local._write_all

    def write(fd: int, data: bytes) -> None:
        real(fd, bytes(data[: len(data) // 2]))  # half lands, then the disk is full
        raise OSError(code, os.strerror(code))

    return write


def _tmp_files(store: LocalStore) -> list[str]:
    return os.listdir(store.root / ".s3opstore-tmp")


ERRNOS = [(errno.ENOSPC, StorageFullError, 507), (errno.EDQUOT, StorageFullError, 507),
          (errno.EROFS, StorageAccessError, 502), (errno.EACCES, StorageAccessError, 502),
          (errno.EIO, StorageError, 502)]


@pytest.mark.parametrize(("code", "error", "status"), ERRNOS,
                         ids=[errno.errorcode[c] for c, _, _ in ERRNOS])
@pytest.mark.parametrize("mode", ["create", "overwrite", "cas", "upload"])
def test_a_failed_temp_write_is_typed_and_leaves_nothing(
        store: LocalStore, monkeypatch: pytest.MonkeyPatch, code: int,
        error: type[StorageError], status: int, mode: str) -> None:
    store.put("k/existing", b"old")
    monkeypatch.setattr(local, "_write_all", _failing_write(code))
    key = "k/new" if mode == "create" else "k/existing"
    put_mode: PutMode = (IfMatch(store.get(key).etag) if mode == "cas"
                         else "create" if mode == "create" else "overwrite")
    write = (lambda: store.upload(key, io.BytesIO(b"z" * 5_000_000), size=5_000_000)
             ) if mode == "upload" else (lambda: store.put(key, b"z" * 1000, mode=put_mode))
    with pytest.raises(error) as info:
        write()
    assert type(info.value) is error
    assert info.value.status == status
    assert key in info.value.message and errno.errorcode[code] in info.value.message
    assert not isinstance(info.value, StorageUnavailableError)  # nothing became visible
    assert store.head("k/new") is None
    assert store.get("k/existing").data == b"old"
    assert _tmp_files(store) == []


def test_a_failure_after_the_write_is_visible_says_maybe_applied(
        store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: str) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(local, "fsync_dir", broken)
    with pytest.raises(StorageUnavailableError) as info:
        store.put("k/obj", b"x", mode="create")
    assert info.value.maybe_applied
    assert store.get("k/obj").data == b"x"


def test_a_full_disk_is_http_507_not_500(store: LocalStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    opstore = OpStore(store)
    version = Version.from_parts(b"a", b"b", b"c", creation_time=datetime(2024, 1, 1))
    opstore.register_version("model", version)
    monkeypatch.setattr(local, "_write_all", _failing_write(errno.ENOSPC))
    body = json.dumps({"op_name": "model", "version": str(version),
                       "bytes": base64.b64encode(b"q" * 4096).decode()}).encode()
    response = handle(ApiRequest("POST", "/v1/save_op_bytes", {}, body), opstore)
    assert response.status == 507
    assert json.loads(response.body)["error"]["type"] == "storage_full"
    assert _tmp_files(store) == []
    assert list(store.list("ops/model/blobs/")) == []
    assert list(store.list("ops/model/bytes/")) == []
