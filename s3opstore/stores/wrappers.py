"""Stores that add behaviour around another store without touching backends.

``CountingStore`` tallies primitive calls (request budgets on any backend);
``FaultyStore`` makes chosen calls fail, including the nastiest case, a write
that is applied but whose response is lost ("ambiguous success").
Both expose the wrapped store as ``inner``: they are ``Wrapper``s
(stores/capabilities.py), so a wrapped store's capabilities (presigning,
request hooks, scratch cleaning) are still found through them.
"""

from __future__ import annotations

import builtins
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from s3opstore.errors import S3OpStoreError, StorageUnavailableError
from s3opstore.stores.base import GetResult, ObjectInfo, ObjectStore, PutMode

__all__ = ["CountingStore", "Fault", "FaultyStore"]


class CountingStore:
    """Counts calls by primitive name: ``counts["put"]``, ``counts["list"]``..."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _tick(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def url(self) -> str:
        return self.inner.url

    def get(self, key: str) -> GetResult:
        self._tick("get")
        return self.inner.get(key)

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        self._tick("get")
        return self.inner.get_if_changed(key, etag)

    def head(self, key: str) -> ObjectInfo | None:
        self._tick("head")
        return self.inner.head(key)

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        self._tick("put")
        return self.inner.put(key, data, mode=mode)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._tick("delete")
        self.inner.delete(key, if_match=if_match)

    def delete_many(self, keys: Sequence[str]) -> None:
        self._tick("delete_many")
        self.inner.delete_many(keys)

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        self._tick("list")
        return self.inner.list(prefix, start_after=start_after, limit=limit)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        self._tick("list")
        return self.inner.list_dirs(prefix)

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        self._tick("upload")
        self.inner.upload(key, source, size=size)

    def download(self, key: str, sink: BinaryIO) -> int:
        self._tick("download")
        return self.inner.download(key, sink)

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        self._tick("copy")
        self.inner.copy(source, target, source_etag=source_etag)


@dataclass
class Fault:
    """Fail the ``nth`` call (1-based) of primitive ``op`` whose key contains ``key_part``.

    ``kind``: "unavailable" (raise before applying), "ambiguous" (apply, then
    raise as if the response was lost), or "error" (raise ``exc``).
    """

    op: str
    nth: int = 1
    kind: str = "unavailable"
    key_part: str = ""
    exc: S3OpStoreError | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)


class FaultyStore(CountingStore):
    """A CountingStore that injects :class:`Fault`s; test-only."""

    def __init__(self, inner: ObjectStore, faults: list[Fault] | None = None) -> None:
        super().__init__(inner)
        self.faults = list(faults or [])

    def _fault_for(self, op: str, key: str) -> Fault | None:
        for fault in self.faults:
            if fault.op == op and fault.key_part in key:
                fault.seen += 1
                if fault.seen == fault.nth:
                    fault.fired += 1
                    return fault
        return None

    def _run(self, op: str, key: str, call: Callable[[], object]) -> object:
        fault = self._fault_for(op, key)
        if fault is None:
            return call()
        if fault.kind == "ambiguous":
            call()
            raise StorageUnavailableError(f"injected lost response for {op} {key!r}",
                                          maybe_applied=True)
        if fault.kind == "error" and fault.exc is not None:
            raise fault.exc
        raise StorageUnavailableError(
            f"injected failure for {op} {key!r}",
            maybe_applied=op in ("put", "upload", "delete", "delete_many", "copy"))

    def get(self, key: str) -> GetResult:
        self._tick("get")
        result = self._run("get", key, lambda: self.inner.get(key))
        assert isinstance(result, GetResult)
        return result

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        self._tick("get")
        result = self._run("get", key, lambda: self.inner.get_if_changed(key, etag))
        assert result is None or isinstance(result, GetResult)
        return result

    def head(self, key: str) -> ObjectInfo | None:
        self._tick("head")
        result = self._run("head", key, lambda: self.inner.head(key))
        assert result is None or isinstance(result, ObjectInfo)
        return result

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        self._tick("put")
        result = self._run("put", key, lambda: self.inner.put(key, data, mode=mode))
        assert isinstance(result, str)
        return result

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._tick("delete")
        self._run("delete", key, lambda: self.inner.delete(key, if_match=if_match))

    def delete_many(self, keys: Sequence[str]) -> None:
        self._tick("delete_many")  # a fault's key_part is looked for in every key
        self._run("delete_many", "\n".join(keys), lambda: self.inner.delete_many(keys))

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        self._tick("list")
        result = self._run("list", prefix, lambda: list(
            self.inner.list(prefix, start_after=start_after, limit=limit)))
        assert isinstance(result, list)
        return iter(result)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        self._tick("list")
        result = self._run("list", prefix, lambda: self.inner.list_dirs(prefix))
        assert isinstance(result, list)
        return result

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        self._tick("upload")
        self._run("upload", key, lambda: self.inner.upload(key, source, size=size))

    def download(self, key: str, sink: BinaryIO) -> int:
        self._tick("download")
        result = self._run("download", key, lambda: self.inner.download(key, sink))
        assert isinstance(result, int)
        return result

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        self._tick("copy")
        self._run("copy", target,
                  lambda: self.inner.copy(source, target, source_etag=source_etag))
