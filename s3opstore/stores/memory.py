"""An in-process store: a dict behind a lock, with the same conditional semantics.

Used for fast unit tests and as the inner store of the test-only wrappers;
it is thread-safe, unlike moto's in-process mock.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import BinaryIO

from s3opstore.errors import ObjectNotFoundError, PreconditionFailedError
from s3opstore.stores.base import GetResult, IfMatch, ObjectInfo, PutMode, check_key, check_prefix

__all__ = ["MemoryStore"]


class MemoryStore:
    def __init__(self) -> None:
        # key -> (data, etag, last modified, sha256 hex taken while writing)
        self._objects: dict[str, tuple[bytes, str, datetime, str]] = {}
        self._lock = threading.Lock()
        self._name = uuid.uuid4().hex[:8]

    @property
    def url(self) -> str:
        return f"memory://{self._name}"

    def __repr__(self) -> str:
        return f"MemoryStore({self._name!r})"

    def get(self, key: str) -> GetResult:
        check_key(key)
        with self._lock:
            try:
                data, etag, modified, _sha = self._objects[key]
            except KeyError:
                raise ObjectNotFoundError(key) from None
        return GetResult(data=data, etag=etag, last_modified=modified)

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        got = self.get(key)
        return None if got.etag == etag else got

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with self._lock:
            item = self._objects.get(key)
        if item is None:
            return None
        return ObjectInfo(key=key, size=len(item[0]), etag=item[1], last_modified=item[2],
                          sha256=item[3])

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        check_key(key)
        data = bytes(data)
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        with self._lock:
            current = self._objects.get(key)
            if mode == "create" and current is not None:
                raise PreconditionFailedError(key)
            if isinstance(mode, IfMatch) and (current is None or current[1] != mode.etag):
                raise PreconditionFailedError(key)
            self._objects[key] = (data, etag, datetime.now(UTC), hashlib.sha256(data).hexdigest())
        return etag

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        check_key(key)
        with self._lock:
            current = self._objects.get(key)
            if current is not None and if_match is not None and current[1] != if_match:
                raise PreconditionFailedError(key)
            self._objects.pop(key, None)

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            check_key(key)
        with self._lock:
            for key in keys:
                self._objects.pop(key, None)

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        with self._lock:
            items = sorted((k, v) for k, v in self._objects.items() if k.startswith(prefix))
        count = 0
        for key, (data, etag, modified, _sha) in items:
            if start_after is not None and key <= start_after:
                continue
            if limit is not None and count >= limit:
                return
            count += 1
            yield ObjectInfo(key=key, size=len(data), etag=etag, last_modified=modified)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        check_prefix(prefix)
        with self._lock:
            keys = [k for k in self._objects if k.startswith(prefix)]
        return sorted({k[len(prefix):].split("/", 1)[0] for k in keys if "/" in k[len(prefix):]})

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        self.put(key, source.read())

    def download(self, key: str, sink: BinaryIO) -> int:
        data = self.get(key).data
        sink.write(data)
        return len(data)

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        got = self.get(source)
        if source_etag is not None and got.etag != source_etag:
            raise PreconditionFailedError(source)
        self.put(target, got.data)
