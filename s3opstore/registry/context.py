"""What every registry module shares: the store, the committer, who we are.

Also the one-time conditional-write probe: before the first write through a
store, a scratch key is created twice with ``If-None-Match: *``; the second
create must fail. A store that accepts it ignores conditions and would lose
updates silently, so writing is refused unless the user opted in to
single-writer mode. The answer is cached per store URL for the process.

And the store's format version (design.md, D13; ``registry/format.py``):
registry code reaches the store only through ``ctx.store`` and
``ctx.committer``, which check the root manifest before the first request
(once per store URL and process); the first write creates it when absent.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from s3opstore.errors import PreconditionFailedError, StorageError, UnsafeStoreError
from s3opstore.models.key_codecs import clean_host
from s3opstore.models.keys import probe_key
from s3opstore.registry.commit import Committer, RetryPolicy
from s3opstore.registry.format import check_format, ensure_format_written, forget_formats
from s3opstore.stores.base import IfMatch, ObjectStore
from s3opstore.trust.keys import SigningKey
from s3opstore.trust.verify import Verifier

V = TypeVar("V")

__all__ = ["Context", "Identity"]

_PROBED: dict[str, bool] = {}
_PROBE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Identity:
    host: str
    pid: int

    @classmethod
    def current(cls) -> Identity:
        return cls(clean_host(socket.gethostname()), os.getpid())


# How many entries each per-process memo below keeps (entry keys: only an op's newest
# few versions ever leave its head; ops: a process writes to a few at a time).
_KEPT = 256


def _remember(memo: OrderedDict[str, V], key: str, value: V) -> None:
    """Put ``key`` in ``memo`` as its newest entry, forgetting the oldest past _KEPT."""
    memo[key] = value
    memo.move_to_end(key)
    if len(memo) > _KEPT:
        memo.popitem(last=False)


class Context:
    """The store, the committer and the safety checks one OpStore shares with its modules."""

    def __init__(self, store: ObjectStore, retry: RetryPolicy | None = None,
                 single_writer: bool = False, *, signer: SigningKey | None = None,
                 verifier: Verifier | None = None) -> None:
        self._store = store
        self.signer = signer  # signs every binding written (D15)
        self.verifier = verifier  # checks every binding read before its bytes are (D15)
        self.retry = retry or RetryPolicy()
        self.single_writer = single_writer
        self._committer = Committer(store, self.retry, self.ensure_safe)
        # Listing entries this process saw stored (D2), oldest first. An entry is never
        # removed, and its key encodes the whole record (registration time included), so
        # dropping that version from the head needs no look, even in a store rebuilt
        # under the process.
        self._listed: OrderedDict[str, None] = OrderedDict()
        self._listed_lock = threading.Lock()
        # D18: how many other writers' intents this process's last LIST of each op's
        # intents found (most recently listed ops last). A hint: a torn update blurs it.
        self._waiting: OrderedDict[str, int] = OrderedDict()
        self._format_checked = False

    @property
    def store(self) -> ObjectStore:
        """The store, once its format is known to be one this release reads (D13)."""
        if not self._format_checked:
            self._check_format()
        return self._store

    @property
    def committer(self) -> Committer:
        if not self._format_checked:
            self._check_format()
        return self._committer

    def _check_format(self) -> None:
        check_format(self._store)
        self._format_checked = True

    @property
    def identity(self) -> Identity:
        # Looked up per use: a forked worker must not report its parent's pid.
        return Identity.current()

    def was_listed(self, entry_key: str) -> bool:
        with self._listed_lock:
            return entry_key in self._listed

    def waiting_on(self, op: str) -> int:
        """How many writers the last look at ``op``'s intents found waiting (0: none yet)."""
        with self._listed_lock:
            return self._waiting.get(op, 0)

    def saw_waiting(self, op: str, count: int) -> None:
        with self._listed_lock:
            _remember(self._waiting, op, count)

    def mark_listed(self, entry_key: str) -> None:
        with self._listed_lock:
            _remember(self._listed, entry_key, None)

    def ensure_safe(self) -> None:
        """Before writing: the conditional-write probe and the root manifest, once per URL."""
        if not self._format_checked:
            self._check_format()  # an existing root manifest then costs no write
        store = self._store
        url = store.url
        with _PROBE_LOCK:
            honoured = _PROBED.get(url)
            if honoured is None:
                honoured = probe_conditional_writes(store)
                _PROBED[url] = honoured
        if not honoured and not self.single_writer:
            raise UnsafeStoreError(
                f"the store at {url} accepted a second create-only write to one key: it "
                "ignores S3 conditional writes, so concurrent writers would lose updates. "
                "Use a store that honours If-None-Match/If-Match, or open it with "
                "single_writer=True if only one process ever writes.")
        ensure_format_written(store)


def probe_conditional_writes(store: ObjectStore) -> bool:
    """True when ``store`` refuses a second create and a stale If-Match."""
    key = _create_probe_key(store)
    try:
        try:
            store.put(key, b"probe again", mode="create")
            return False
        except PreconditionFailedError:
            pass
        try:
            store.put(key, b"probe cas", mode=IfMatch('"00000000000000000000000000000000"'))
            return False
        except PreconditionFailedError:
            return True
    finally:
        with contextlib.suppress(StorageError):
            store.delete(key)


def _create_probe_key(store: ObjectStore, attempts: int = 3) -> str:
    """Create a fresh scratch key, recognising our own create behind a 412.

    A 412 on a fresh random key means the SDK retried our create after a lost
    response (the object is there: ours) or a spurious answer (nothing there:
    try another key). Concluding anything from it would poison the cache.
    """
    for _ in range(attempts):
        key = probe_key(uuid.uuid4().hex)
        try:
            store.put(key, b"probe", mode="create")
            return key
        except PreconditionFailedError:
            if store.head(key) is not None:
                return key
    raise UnsafeStoreError(
        f"the store at {store.url} refused {attempts} create-only writes to fresh keys "
        "without storing them; it does not handle conditional writes correctly")


def forget_probes() -> None:
    """Tests: behave like a new process (probe again, read the root manifest again)."""
    with _PROBE_LOCK:
        _PROBED.clear()
    forget_formats()
