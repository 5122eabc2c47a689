"""Deterministic interleavings: run another actor at an exact point of one actor's requests.

``Hooked`` wraps the store one actor uses; a :class:`Hook` fires ``action``
just before or just after that actor's n-th call of a primitive on a key
containing ``key_part``. The action usually runs a second actor (gc, another
writer) to completion on the *unwrapped* store, or raises :class:`Killed` to
model the first actor dying at that point. Single-threaded, so it is exact
on every backend, moto's in-process mock included.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from s3opstore.stores.base import GetResult, ObjectInfo, ObjectStore, PutMode
from s3opstore.stores.wrappers import CountingStore


class Killed(BaseException):
    """The hooked actor dies here: nothing after this point of its call runs."""


@dataclass
class Hook:
    primitive: str
    key_part: str
    action: Callable[[], Any]
    when: Literal["before", "after"] = "before"
    nth: int = 1
    seen: int = field(default=0, init=False)
    fired: bool = field(default=False, init=False)


class Hooked(CountingStore):
    def __init__(self, inner: ObjectStore, *hooks: Hook) -> None:
        super().__init__(inner)
        self.hooks = list(hooks)

    def _fire(self, primitive: str, key: str, when: str) -> None:
        for hook in self.hooks:
            if hook.primitive != primitive or hook.key_part not in key or hook.fired:
                continue
            if when == "before":
                hook.seen += 1
            if hook.when == when and hook.seen == hook.nth:
                hook.fired = True
                hook.action()

    def _call(self, primitive: str, key: str, call: Callable[[], Any]) -> Any:
        self._fire(primitive, key, "before")
        result = call()
        self._fire(primitive, key, "after")
        return result

    def get(self, key: str) -> GetResult:
        result: GetResult = self._call("get", key, lambda: self.inner.get(key))
        return result

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        result: GetResult | None = self._call(
            "get", key, lambda: self.inner.get_if_changed(key, etag))
        return result

    def head(self, key: str) -> ObjectInfo | None:
        result: ObjectInfo | None = self._call("head", key, lambda: self.inner.head(key))
        return result

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        result: str = self._call("put", key, lambda: self.inner.put(key, data, mode=mode))
        return result

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._call("delete", key, lambda: self.inner.delete(key, if_match=if_match))

    def delete_many(self, keys: Sequence[str]) -> None:
        self._call("delete_many", "\n".join(keys), lambda: self.inner.delete_many(keys))

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        items: builtins.list[ObjectInfo] = self._call("list", prefix, lambda: builtins.list(
            self.inner.list(prefix, start_after=start_after, limit=limit)))
        return iter(items)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        result: builtins.list[str] = self._call("list", prefix,
                                                lambda: self.inner.list_dirs(prefix))
        return result

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        self._call("upload", key, lambda: self.inner.upload(key, source, size=size))

    def download(self, key: str, sink: BinaryIO) -> int:
        result: int = self._call("download", key, lambda: self.inner.download(key, sink))
        return result

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        self._call("copy", target,
                   lambda: self.inner.copy(source, target, source_etag=source_etag))
