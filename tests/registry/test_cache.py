"""CachedLoader: request counts once warm, freshness, verification, LRU eviction.

Requests are counted by a CountingStore wrapped around each backend.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import BytesNotFoundError, IntegrityError, OpNotFoundError
from s3opstore.models.keys import blob_key
from s3opstore.registry.cache import CachedLoader
from s3opstore.stores import ObjectStore
from s3opstore.stores.wrappers import CountingStore


def v(major: str, patch: str = "") -> Version:
    return Version.from_parts(major=major, patch=patch,
                              creation_time=datetime(2021, 5, 1, 8, 0, 0, 1000))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def counting(object_store: ObjectStore) -> CountingStore:
    return CountingStore(object_store)


@pytest.fixture
def ops(counting: CountingStore) -> OpStore:
    return OpStore(counting)


def _saved(ops: OpStore, op: str, version: Version, data: bytes) -> None:
    ops.register_version(op, version)
    ops.save_op_bytes(op, version, data)


def test_warm_unchanged_costs_head_and_one_list(ops: OpStore, counting: CountingStore,
                                                tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"weights-1" * 100)
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    counting.reset()
    record, data = loader.load_latest("model")
    assert record.version == v("a")
    assert data == b"weights-1" * 100
    # head, status (LIST), newest binding (LIST + GET), then the blob itself
    assert dict(counting.counts) == {"get": 3, "list": 2}
    for _ in range(3):
        counting.reset()
        record, data = loader.load_latest("model")
        assert data == b"weights-1" * 100
        # the head's conditional GET (unchanged), status and binding LISTs; no blob
        assert dict(counting.counts) == {"get": 1, "list": 2}
    assert loader.stats.blob_hits == 3
    assert loader.stats.blob_misses == 1
    assert loader.stats.heads_unchanged == 3  # answered 304: no head body either


def test_binding_ttl_makes_warm_one_request(ops: OpStore, counting: CountingStore,
                                            tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"one")
    clock = Clock()
    loader = CachedLoader(ops, tmp_path / "cache", 10_000, binding_ttl=30, clock=clock)
    loader.load_latest("model")
    counting.reset()
    assert loader.load_latest("model")[1] == b"one"
    assert dict(counting.counts) == {"get": 1}
    # A re-save of other bytes under the same version is seen once the TTL ran out.
    ops.save_op_bytes("model", v("a"), b"two")
    assert loader.load_latest("model")[1] == b"one"
    clock.now += 31
    assert loader.load_latest("model")[1] == b"two"


def test_strict_mode_sees_a_resave_at_once(ops: OpStore, tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"one")
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    assert loader.load_latest("model")[1] == b"one"
    ops.save_op_bytes("model", v("a"), b"two")
    assert loader.load_latest("model")[1] == b"two"


def test_new_latest_version_is_seen_at_once_even_with_ttl(ops: OpStore,
                                                          tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"first")
    loader = CachedLoader(ops, tmp_path / "cache", 10_000, binding_ttl=3600)
    assert loader.load_latest("model")[1] == b"first"
    _saved(ops, "model", v("b"), b"second")
    record, data = loader.load_latest("model")
    assert record.version == v("b")
    assert record.number == (2, 0, 0)
    assert data == b"second"


def test_identical_bytes_of_a_new_version_are_not_downloaded(
        ops: OpStore, counting: CountingStore, tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"same bytes")
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    loader.load_latest("model")
    _saved(ops, "model", v("a", "p"), b"same bytes")
    counting.reset()
    record, data = loader.load_latest("model")
    assert record.number == (1, 0, 1)
    assert data == b"same bytes"
    assert dict(counting.counts) == {"get": 2, "list": 2}  # head, new binding; blob from disk


def test_cache_survives_a_restart(ops: OpStore, counting: CountingStore,
                                  tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"kept on disk")
    CachedLoader(ops, tmp_path / "cache", 10_000).load_latest("model")
    counting.reset()
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    assert loader.load_latest("model")[1] == b"kept on disk"
    assert dict(counting.counts) == {"get": 2, "list": 2}
    assert loader.stats.blob_hits == 1


def test_corrupt_cache_file_is_dropped_and_fetched_again(ops: OpStore, counting: CountingStore,
                                                         tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"precious")
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    loader.load_latest("model")
    [cached] = (tmp_path / "cache" / "sha256").iterdir()
    cached.write_bytes(b"pRecious")
    counting.reset()
    assert loader.load_latest("model")[1] == b"precious"
    assert counting.counts["get"] == 2  # head + blob again
    assert loader.stats.corrupt_dropped == 1
    assert cached.read_bytes() == b"precious"


def test_corrupt_blob_in_the_store_is_an_integrity_error(ops: OpStore, tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"original")
    info = ops.op_bytes_info("model", v("a"))
    ops.store.put(blob_key("model", info.sha256), b"0riginal")
    loader = CachedLoader(ops, tmp_path / "cache", 10_000)
    with pytest.raises(IntegrityError, match="corrupt"):
        loader.load_latest("model")
    assert list((tmp_path / "cache" / "sha256").iterdir()) == []


def test_least_recently_used_blobs_are_evicted_by_size(ops: OpStore, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        _saved(ops, name, v(name), name.encode() * 1000)
    loader = CachedLoader(ops, tmp_path / "cache", 2500)
    loader.load_latest("a")
    loader.load_latest("b")
    loader.load_latest("a")  # a is now more recent than b
    loader.load_latest("c")
    assert loader.stats.evictions == 1
    assert loader.cached_bytes == 2000
    names = {p.name for p in (tmp_path / "cache" / "sha256").iterdir()}
    a_sha = ops.op_bytes_info("a", v("a")).sha256
    c_sha = ops.op_bytes_info("c", v("c")).sha256
    assert names == {a_sha, c_sha}
    # A restarted loader with a smaller budget trims what it finds on disk.
    smaller = CachedLoader(ops, tmp_path / "cache", 1500)
    assert smaller.cached_bytes == 1000


def test_blob_larger_than_the_cache_is_served_not_kept(ops: OpStore, tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"x" * 5000)
    loader = CachedLoader(ops, tmp_path / "cache", 1000)
    assert loader.load_latest("model")[1] == b"x" * 5000
    assert loader.cached_bytes == 0
    assert list((tmp_path / "cache" / "sha256").iterdir()) == []


def test_missing_op_or_bytes(ops: OpStore, tmp_path: Path) -> None:
    loader = CachedLoader(ops, tmp_path / "cache")
    with pytest.raises(OpNotFoundError):
        loader.load_latest("nothing")
    ops.register_version("model", v("a"))
    with pytest.raises(BytesNotFoundError):
        loader.load_latest("model")


def test_load_a_given_version(ops: OpStore, tmp_path: Path) -> None:
    _saved(ops, "model", v("a"), b"old")
    _saved(ops, "model", v("b"), b"new")
    loader = CachedLoader(ops, tmp_path / "cache")
    assert loader.load("model", v("a")) == b"old"
    assert loader.load("model", str(v("b"))) == b"new"
