"""Fault injection by request position, for the reliability tests.

Two layers, both test-only:

- :class:`FaultInjector` wraps any :class:`ObjectStore` (like
  ``stores.wrappers.FaultyStore``, but positions are counted across *all*
  primitives, so "fail the i-th request of this operation" is one number).
  A *plan* decides, for each call, whether and how it fails:

  ``unavailable``   raise StorageUnavailableError before applying (a 5xx or a
                    refused connection; writes report ``maybe_applied=True``,
                    as ``S3Store`` does for any failed write);
  ``ambiguous``     apply the call, then raise as if the response was lost;
  ``conflict``      raise ConcurrentWriteError (HTTP 409), not applied;
  ``precondition``  raise PreconditionFailedError (HTTP 412) spuriously, not applied.

- :class:`BotoFaults` (in ``testing/boto_faults.py``) hooks a boto3 client's
  ``before-send`` event, so faults happen *below* botocore's own retries, as
  real network faults do (a 503 SlowDown, a reset connection, a read timeout
  after the server applied the write, which botocore retries into a 412 for
  our own create).

Listings are materialised before a fault decision, so a ``list`` is one
position however lazily the backend pages.
"""

from __future__ import annotations

import builtins
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from s3opstore.errors import (
    ConcurrentWriteError,
    PreconditionFailedError,
    StorageUnavailableError,
)
from s3opstore.stores.base import GetResult, ObjectInfo, ObjectStore, PutMode

# Faults below botocore live in the store layer, the only one that may speak botocore.
from s3opstore.testing.boto_faults import BOTO_FAULT_KINDS, BotoFaults

__all__ = [
    "BOTO_FAULT_KINDS",
    "FAULT_KINDS",
    "WRITE_PRIMITIVES",
    "BotoFaults",
    "FaultInjector",
    "Injected",
    "Plan",
    "at_position",
    "at_positions",
    "no_faults",
    "random_faults",
]

FAULT_KINDS = ("unavailable", "ambiguous", "conflict", "precondition")
WRITE_PRIMITIVES = frozenset({"put", "upload", "delete", "delete_many", "copy"})

# (1-based position, primitive, key) -> fault kind or None
Plan = Callable[[int, str, str], str | None]


def no_faults(position: int, primitive: str, key: str) -> str | None:
    return None


def at_position(position: int, kind: str) -> Plan:
    """Fail exactly the ``position``-th call (1-based) with ``kind``."""
    return at_positions({position: kind})


def at_positions(kinds: dict[int, str]) -> Plan:
    def plan(pos: int, primitive: str, key: str) -> str | None:
        return kinds.get(pos)

    return plan


def random_faults(rate: float, seed: int, kinds: tuple[str, ...] = FAULT_KINDS) -> Plan:
    """Fail each call with probability ``rate``, choosing a kind uniformly (seeded)."""
    rng = random.Random(seed)

    def plan(pos: int, primitive: str, key: str) -> str | None:
        return rng.choice(kinds) if rng.random() < rate else None

    return plan


@dataclass(frozen=True, slots=True)
class Injected:
    position: int
    primitive: str
    key: str
    kind: str


@dataclass
class FaultInjector:
    """An ObjectStore that fails calls as its ``plan`` says; records every call."""

    inner: ObjectStore
    plan: Plan = no_faults
    calls: builtins.list[tuple[str, str]] = field(default_factory=builtins.list)
    injected: builtins.list[Injected] = field(default_factory=builtins.list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self, plan: Plan = no_faults) -> None:
        with self._lock:
            self.plan = plan
            self.calls.clear()
            self.injected.clear()

    @property
    def url(self) -> str:
        return self.inner.url

    def _decide(self, primitive: str, key: str) -> str | None:
        with self._lock:
            self.calls.append((primitive, key))
            position = len(self.calls)
            kind = self.plan(position, primitive, key)
            if kind is not None:
                self.injected.append(Injected(position, primitive, key, kind))
            return kind

    def _run(self, primitive: str, key: str, call: Callable[[], Any]) -> Any:
        kind = self._decide(primitive, key)
        write = primitive in WRITE_PRIMITIVES
        if kind is None:
            return call()
        if kind == "ambiguous":
            call()
            raise StorageUnavailableError(
                f"injected lost response after {primitive} {key!r} was applied",
                maybe_applied=write)
        if kind == "conflict":
            raise ConcurrentWriteError(key)
        if kind == "precondition":
            raise PreconditionFailedError(key)
        if kind == "unavailable":
            raise StorageUnavailableError(f"injected 503 for {primitive} {key!r}",
                                          maybe_applied=write)
        raise ValueError(f"unknown fault kind {kind!r}")

    def get(self, key: str) -> GetResult:
        result: GetResult = self._run("get", key, lambda: self.inner.get(key))
        return result

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        result: GetResult | None = self._run(
            "get", key, lambda: self.inner.get_if_changed(key, etag))
        return result

    def head(self, key: str) -> ObjectInfo | None:
        result: ObjectInfo | None = self._run("head", key, lambda: self.inner.head(key))
        return result

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        result: str = self._run("put", key, lambda: self.inner.put(key, data, mode=mode))
        return result

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._run("delete", key, lambda: self.inner.delete(key, if_match=if_match))

    def delete_many(self, keys: Sequence[str]) -> None:
        self._run("delete_many", "\n".join(keys), lambda: self.inner.delete_many(keys))

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        items: builtins.list[ObjectInfo] = self._run("list", prefix, lambda: builtins.list(
            self.inner.list(prefix, start_after=start_after, limit=limit)))
        return iter(items)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        result: builtins.list[str] = self._run("list_dirs", prefix,
                                               lambda: self.inner.list_dirs(prefix))
        return result

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        start = source.tell() if source.seekable() else None

        def call() -> None:
            if start is not None:
                source.seek(start)
            self.inner.upload(key, source, size=size)

        self._run("upload", key, call)

    def download(self, key: str, sink: BinaryIO) -> int:
        result: int = self._run("download", key, lambda: self.inner.download(key, sink))
        return result

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        self._run("copy", target,
                  lambda: self.inner.copy(source, target, source_etag=source_etag))
