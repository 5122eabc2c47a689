"""The store conformance suite, shipped with the package.

Subclass :class:`StoreSuite` and provide a ``store`` fixture (a fresh, empty
store per test, alone in a fresh *container*: a directory, a bucket prefix, a
dict) and the raw hooks ``raw_get``, ``raw_put`` and ``raw_list``, which read
and write the container directly, past the store under test. With them the
suite checks where a store writes, not only that it reads back what it wrote.
Subclass :class:`PrefixSuite` instead when the store lives under a prefix of
a larger container (its neighbours must stay invisible and untouched);
:class:`ThreadRaceSuite` when the store is thread-safe, and
:class:`ProcessRaceSuite` when it can be opened from a URL in other processes
(``store_url`` and ``store_env`` fixtures). Every backend of s3opstore runs
the same bodies, so the registry can rely on the invariants stated in
``s3opstore.stores.base``.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from s3opstore.errors import InvalidKeyError, ObjectNotFoundError, PreconditionFailedError
from s3opstore.stores.base import IfMatch, ObjectStore
from s3opstore.testing import workers

__all__ = ["PrefixSuite", "ProcessRaceSuite", "StoreSuite", "ThreadRaceSuite"]

BAD_KEYS = ["", "/abs", "../up", "a/../../b", "a//b", "a/./b", "a b", "a/b/", "nul\x00",
            "tab\tkey", "é", "a\\b", "x" * 901, "%2e%2e/x"]


class StoreSuite:
    """Behaviour every ObjectStore backend must have."""

    #: size of the streamed object; backends set a small multipart threshold to cross it
    stream_size = 5 * 1024 * 1024 + 12345
    #: keys the pagination test lists: more than one page of the store as its fixture made it
    paginate_keys = 1005
    #: keys the batch-delete test removes: more than one request's worth of the store as
    #: its fixture made it, where the backend batches
    delete_many_keys = 12
    #: what the raw name of the store's key ``k`` is, minus ``k`` ("" for a whole container)
    raw_prefix = ""

    # -- raw hooks: the container, read and written past the store under test -----------
    def raw_get(self, store: ObjectStore, name: str) -> bytes | None:
        """The content of raw name ``name`` in the store's container, or None."""
        raise NotImplementedError

    def raw_put(self, store: ObjectStore, name: str, data: bytes) -> None:
        """Write ``data`` at raw name ``name`` in the store's container."""
        raise NotImplementedError

    def raw_list(self, store: ObjectStore) -> list[str]:
        """Every object's raw name in the store's container, sorted (bookkeeping left out)."""
        raise NotImplementedError

    def _raw(self, key: str) -> str:
        return self.raw_prefix + key

    def test_is_an_object_store(self, store: ObjectStore) -> None:
        assert isinstance(store, ObjectStore)
        assert store.url

    def test_put_get_roundtrip(self, store: ObjectStore) -> None:
        etag = store.put("a/b.json", b'{"x": 1}')
        got = store.get("a/b.json")
        assert got.data == b'{"x": 1}'
        assert got.etag == etag
        assert self.raw_get(store, self._raw("a/b.json")) == b'{"x": 1}'

    def test_every_write_lands_under_the_prefix(self, store: ObjectStore) -> None:
        etag = store.put("w/swapped", b"one")
        store.put("w/swapped", b"two", mode=IfMatch(etag))
        store.put("w/plain", b"plain")
        store.put("w/created", b"created", mode="create")
        store.upload("w/uploaded", io.BytesIO(b"streamed"), size=len(b"streamed"))
        store.copy("w/plain", "w/copied")
        store.put("w/deleted", b"gone")
        store.delete("w/deleted")
        expected = {"w/swapped": b"two", "w/plain": b"plain", "w/created": b"created",
                    "w/uploaded": b"streamed", "w/copied": b"plain"}
        assert self.raw_list(store) == sorted(self._raw(key) for key in expected)
        for key, data in expected.items():
            assert self.raw_get(store, self._raw(key)) == data, key

    def test_reads_find_what_was_written_past_the_store(self, store: ObjectStore) -> None:
        self.raw_put(store, self._raw("r/obj"), b"raw bytes")
        self.raw_put(store, self._raw("r/sub/deeper"), b"deeper")
        assert store.get("r/obj").data == b"raw bytes"
        info = store.head("r/obj")
        assert info is not None and info.size == len(b"raw bytes")
        assert [i.key for i in store.list("r/")] == ["r/obj", "r/sub/deeper"]
        assert store.list_dirs("r/") == ["sub"]
        store.put("r/obj", b"new", mode=IfMatch(store.get("r/obj").etag))
        assert self.raw_get(store, self._raw("r/obj")) == b"new"

    def test_missing_key(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFoundError) as info:
            store.get("missing/key")
        assert "missing/key" in str(info.value)
        assert store.head("missing/key") is None

    def test_head(self, store: ObjectStore) -> None:
        etag = store.put("h/obj", b"12345")
        info = store.head("h/obj")
        assert info is not None
        assert (info.key, info.size, info.etag) == ("h/obj", 5, etag)
        assert info.last_modified is not None

    def test_create_only_once(self, store: ObjectStore) -> None:
        store.put("c/key", b"first", mode="create")
        with pytest.raises(PreconditionFailedError) as info:
            store.put("c/key", b"second", mode="create")
        assert "c/key" in str(info.value)
        assert store.get("c/key").data == b"first"

    def test_compare_and_swap(self, store: ObjectStore) -> None:
        first = store.put("cas/key", b"one", mode="create")
        second = store.put("cas/key", b"two", mode=IfMatch(first))
        assert second != first
        with pytest.raises(PreconditionFailedError):
            store.put("cas/key", b"stale", mode=IfMatch(first))
        assert store.get("cas/key").data == b"two"
        store.put("cas/key", b"three", mode=IfMatch(second))
        assert store.get("cas/key").data == b"three"

    def test_conditional_get(self, store: ObjectStore) -> None:
        first = store.put("cg/key", b"one")
        assert store.get_if_changed("cg/key", first) is None  # unchanged: no body
        second = store.put("cg/key", b"two", mode=IfMatch(first))
        got = store.get_if_changed("cg/key", first)
        assert got is not None and (got.data, got.etag) == (b"two", second)
        assert store.get_if_changed("cg/key", second) is None

    def test_conditional_get_missing(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFoundError):
            store.get_if_changed("cg/absent", '"d41d8cd98f00b204e9800998ecf8427e"')

    def test_compare_and_swap_on_missing_key_fails(self, store: ObjectStore) -> None:
        with pytest.raises(PreconditionFailedError):
            store.put("cas/absent", b"x", mode=IfMatch('"d41d8cd98f00b204e9800998ecf8427e"'))
        assert store.head("cas/absent") is None

    def test_overwrite(self, store: ObjectStore) -> None:
        store.put("o/key", b"one")
        store.put("o/key", b"two", mode="overwrite")
        assert store.get("o/key").data == b"two"

    def test_delete(self, store: ObjectStore) -> None:
        store.put("d/key", b"x")
        store.delete("d/key")
        assert store.head("d/key") is None
        store.delete("d/key")  # absent: not an error
        store.put("d/key", b"again", mode="create")  # a deleted key can be created again

    def test_delete_many(self, store: ObjectStore) -> None:
        keys = [f"gone/{i:03d}" for i in range(self.delete_many_keys)]
        for key in keys:
            store.put(key, b"x")
        store.put("kept/one", b"k")
        store.put("gone-not/x", b"n")  # shares the first characters of the deleted keys
        store.delete_many([*reversed(keys), "gone/absent"])  # absent: not an error
        assert [i.key for i in store.list("")] == ["gone-not/x", "kept/one"]
        store.delete_many([])
        store.put(keys[0], b"again", mode="create")  # a deleted key can be created again

    def test_delete_many_checks_every_key_before_deleting(self, store: ObjectStore) -> None:
        store.put("ok/key", b"x")
        for key in BAD_KEYS:
            with pytest.raises(InvalidKeyError):
                store.delete_many(["ok/key", key])
        assert store.get("ok/key").data == b"x"

    def test_list_order_prefix_and_bounds(self, store: ObjectStore) -> None:
        keys = ["p/b/2", "p/a/1", "p/a/10", "p/a2", "q/x", "pz"]
        for key in keys:
            store.put(key, key.encode())
        assert [i.key for i in store.list("p/")] == ["p/a/1", "p/a/10", "p/a2", "p/b/2"]
        assert [i.key for i in store.list("p/a")] == ["p/a/1", "p/a/10", "p/a2"]
        assert [i.key for i in store.list("p/", limit=2)] == ["p/a/1", "p/a/10"]
        assert [i.key for i in store.list("p/", start_after="p/a2")] == ["p/b/2"]
        assert [i.key for i in store.list("nothing/")] == []
        sizes = {i.key: i.size for i in store.list("p/")}
        assert sizes["p/a/10"] == len(b"p/a/10")

    def test_list_dirs(self, store: ObjectStore) -> None:
        for key in ["ops/alpha/head.json", "ops/beta/versions/x/y.json", "ops/gamma.json"]:
            store.put(key, b"{}")
        assert store.list_dirs("ops/") == ["alpha", "beta"]
        assert store.list_dirs("none/") == []

    def test_list_paginates(self, store: ObjectStore) -> None:
        count = self.paginate_keys
        for i in range(count):
            store.put(f"many/{i:05d}", b"")
        listed = [i.key for i in store.list("many/")]
        assert listed == [f"many/{i:05d}" for i in range(count)]
        assert len(list(store.list("many/", limit=count - 2))) == count - 2
        assert [i.key for i in store.list("many/", start_after="many/00005", limit=6)] == [
            f"many/{i:05d}" for i in range(6, 12)]

    def test_stream_upload_download(self, store: ObjectStore) -> None:
        data = os.urandom(self.stream_size)
        store.upload("blob/big", io.BytesIO(data), size=len(data))
        info = store.head("blob/big")
        assert info is not None and info.size == len(data)
        sink = io.BytesIO()
        assert store.download("blob/big", sink) == len(data)
        assert sink.getvalue() == data
        assert store.get("blob/big").data == data

    def test_download_missing(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFoundError):
            store.download("blob/none", io.BytesIO())

    @pytest.mark.parametrize("key", BAD_KEYS)
    def test_bad_keys_rejected_before_io(self, store: ObjectStore, key: str) -> None:
        with pytest.raises(InvalidKeyError):
            store.put(key, b"x")
        with pytest.raises(InvalidKeyError):
            store.get(key)
        with pytest.raises(InvalidKeyError):
            store.put(key, b"x", mode="create")


class PrefixSuite(StoreSuite):
    """StoreSuite for a store under a prefix of a larger container: neighbours stay apart.

    Raw names that share the prefix's first characters (``<prefix>x/...``), sit
    beside it, or above it are neither seen nor changed by the store.
    """

    def test_neighbours_outside_the_prefix_are_invisible(self, store: ObjectStore) -> None:
        assert self.raw_prefix.endswith("/"), "the prefix of a store in a larger container"
        stem = self.raw_prefix.rstrip("/")
        neighbours = {f"{stem}x/k/x": b"longer name", f"{stem}k": b"beside",
                      f"{stem}-2/k/x": b"sibling", "k/x": b"above"}
        for name, data in neighbours.items():
            self.raw_put(store, name, data)
        store.put("k/x", b"mine", mode="create")
        assert [i.key for i in store.list("")] == ["k/x"]
        assert [i.key for i in store.list("k")] == ["k/x"]
        assert store.list_dirs("") == ["k"]
        assert store.get("k/x").data == b"mine"
        store.delete("k/x")
        assert store.head("k/x") is None
        store.put("k/y", b"mine too")
        store.delete_many(["k/y", "k/x"])
        assert store.head("k/y") is None
        assert self.raw_list(store) == sorted(neighbours)
        for name, data in neighbours.items():
            assert self.raw_get(store, name) == data, name


class ThreadRaceSuite:
    """Races with threads: for backends that are thread-safe in one process."""

    def test_threads_create_once(self, store: ObjectStore) -> None:
        key = f"race/{uuid.uuid4().hex}"
        barrier = threading.Barrier(8)

        def attempt(i: int) -> bool:
            barrier.wait()
            try:
                store.put(key, str(i).encode(), mode="create")
                return True
            except PreconditionFailedError:
                return False

        with ThreadPoolExecutor(8) as pool:
            wins = list(pool.map(attempt, range(8)))
        assert wins.count(True) == 1


class ProcessRaceSuite:
    """Races between processes, each opening the store from its URL."""

    workers_count = 6
    increments = 15

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers_count,
                                   mp_context=multiprocessing.get_context("spawn"))

    def test_processes_create_once(self, store_url: str, store_env: dict[str, str]) -> None:
        key = f"race/{uuid.uuid4().hex}"
        with self._pool() as pool:
            wins = list(pool.map(workers.create_once, [store_url] * 12, [store_env] * 12,
                                 [key] * 12, [str(i).encode() for i in range(12)]))
        assert wins.count(True) == 1

    def test_processes_compare_and_swap_lose_nothing(self, store: ObjectStore, store_url: str,
                                                      store_env: dict[str, str]) -> None:
        key = f"counter/{uuid.uuid4().hex}"
        store.put(key, b"0", mode="create")
        n = self.workers_count
        with self._pool() as pool:
            list(pool.map(workers.cas_increment, [store_url] * n, [store_env] * n,
                          [key] * n, [self.increments] * n))
        assert int(store.get(key).data) == n * self.increments
