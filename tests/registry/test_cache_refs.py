"""CachedLoader through references and aliases, and retirement honoured by every load.

A warm ``load_ref("op@production")`` costs one conditional GET of the alias head
(answered "not modified") once the binding TTL trusts the version's binding and
status; a moved alias is seen at once. Counted by a CountingStore on every backend.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import AliasNotFoundError
from s3opstore.models.keys import alias_head_key
from s3opstore.registry.cache import CachedLoader
from s3opstore.registry.retire import RetiredVersionError, RetiredVersionWarning
from s3opstore.stores import ObjectStore
from s3opstore.stores.wrappers import CountingStore


def v(major: str) -> Version:
    return Version.from_parts(major=major, creation_time=datetime(2022, 3, 4, 5, 6, 7))


@pytest.fixture
def counting(object_store: ObjectStore) -> CountingStore:
    return CountingStore(object_store)


@pytest.fixture
def ops(counting: CountingStore) -> OpStore:
    opstore = OpStore(counting)
    for name in ("a", "b"):
        opstore.register_version("model", v(name))
        opstore.save_op_bytes("model", v(name), f"weights {name}".encode())
    opstore.set_alias("model", "production", v("a"))
    return opstore


def test_warm_alias_load_is_one_conditional_get(ops: OpStore, counting: CountingStore,
                                                tmp_path: Path) -> None:
    loader = CachedLoader(ops, tmp_path / "cache", binding_ttl=60)
    record, data = loader.load_ref("model@production")
    assert (record.version, record.number, data) == (v("a"), (1, 0, 0), b"weights a")
    for _ in range(3):
        counting.reset()
        assert loader.load_ref("model@production")[1] == b"weights a"
        assert dict(counting.counts) == {"get": 1}  # the head's If-None-Match: unchanged
    assert loader.stats.heads_unchanged == 3
    assert loader.stats.blob_misses == 1  # downloaded once, then from disk


def test_strict_warm_alias_load_checks_status_and_binding(
        ops: OpStore, counting: CountingStore, tmp_path: Path) -> None:
    loader = CachedLoader(ops, tmp_path / "cache")
    loader.load_ref("model@production")
    counting.reset()
    assert loader.load_ref("model@production")[1] == b"weights a"
    assert dict(counting.counts) == {"get": 1, "list": 2}


def test_a_moved_alias_is_seen_at_once(ops: OpStore, tmp_path: Path) -> None:
    loader = CachedLoader(ops, tmp_path / "cache", binding_ttl=3600)
    assert loader.load_ref("model@production")[1] == b"weights a"
    ops.set_alias("model", "production", v("b"))
    record, data = loader.load_ref("model@production")
    assert (record.version, data) == (v("b"), b"weights b")
    ops.delete_alias("model", "production")
    with pytest.raises(AliasNotFoundError, match="was deleted"):
        loader.load_ref("model@production")


def test_other_refs_resolve_like_opstore(ops: OpStore, tmp_path: Path) -> None:
    loader = CachedLoader(ops, tmp_path / "cache")
    assert loader.load_ref("model")[1] == b"weights b"
    assert loader.load_ref("model@latest")[1] == b"weights b"
    assert loader.load_ref("model@1.0.0")[1] == b"weights a"
    assert loader.load_ref(f"model@{v('a')}")[1] == b"weights a"
    with pytest.raises(AliasNotFoundError):
        loader.load_ref("model@staging")


def test_an_alias_without_a_head_reads_the_history(ops: OpStore, counting: CountingStore,
                                                   tmp_path: Path) -> None:
    """A store written before heads existed: the history answers, as before."""
    counting.inner.delete(alias_head_key("model", "production"))
    loader = CachedLoader(ops, tmp_path / "cache")
    record, data = loader.load_ref("model@production")
    assert (record.version, data) == (v("a"), b"weights a")


def _load(loader: CachedLoader, how: str) -> bytes:
    if how == "latest":
        return loader.load_latest("model")[1]
    if how == "version":
        return loader.load("model", v("a"))
    return loader.load_ref("model@production")[1]


@pytest.mark.parametrize("how", ["latest", "version", "ref"])
def test_every_load_honours_retirement(ops: OpStore, tmp_path: Path, how: str) -> None:
    loader = CachedLoader(ops, tmp_path / "cache")
    target = "b" if how == "latest" else "a"
    expected = f"weights {target}".encode()
    assert _load(loader, how) == expected
    ops.set_version_status("model", v(target), "deprecated", reason="old data")
    with pytest.warns(RetiredVersionWarning, match=r"deprecated \(old data\)"):
        assert _load(loader, how) == expected
    ops.set_version_status("model", v(target), "archived")
    with pytest.raises(RetiredVersionError, match="is archived"):
        _load(loader, how)
    allowing = CachedLoader(ops, tmp_path / "cache", allow_archived=True)
    with pytest.warns(RetiredVersionWarning, match="is archived"):
        assert _load(allowing, how) == expected


def test_ttl_delays_a_retirement_by_at_most_the_ttl(ops: OpStore, tmp_path: Path) -> None:
    now = [0.0]
    loader = CachedLoader(ops, tmp_path / "cache", binding_ttl=30, clock=lambda: now[0])
    loader.load_latest("model")
    ops.set_version_status("model", v("b"), "archived")
    assert loader.load_latest("model")[1] == b"weights b"  # trusted for 30 s
    now[0] += 31
    with pytest.raises(RetiredVersionError):
        loader.load_latest("model")
