"""What every registry module shares: the store, the committer, who we are.

Also the one-time conditional-write probe: before the first write through a
store, a scratch key is created twice with ``If-None-Match: *``; the second
create must fail. A store that accepts it ignores conditions and would lose
updates silently, so writing is refused unless the user opted in to
single-writer mode. The answer is cached per store URL for the process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

from s3opstore.errors import PreconditionFailedError, StorageError, UnsafeStoreError
from s3opstore.models.keys import clean_host, probe_key
from s3opstore.registry.commit import Committer, RetryPolicy
from s3opstore.stores.base import IfMatch, ObjectStore

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


@dataclass
class Context:
    store: ObjectStore
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    single_writer: bool = False
    committer: Committer = field(init=False)

    def __post_init__(self) -> None:
        self.committer = Committer(self.store, self.retry, self.ensure_safe)

    @property
    def identity(self) -> Identity:
        # Looked up per use: a forked worker must not report its parent's pid.
        return Identity.current()

    def ensure_safe(self) -> None:
        """Run the conditional-write probe once per store URL and process."""
        url = self.store.url
        with _PROBE_LOCK:
            honoured = _PROBED.get(url)
            if honoured is None:
                honoured = probe_conditional_writes(self.store)
                _PROBED[url] = honoured
        if not honoured and not self.single_writer:
            raise UnsafeStoreError(
                f"the store at {url} accepted a second create-only write to one key: it "
                "ignores S3 conditional writes, so concurrent writers would lose updates. "
                "Use a store that honours If-None-Match/If-Match, or open it with "
                "single_writer=True if only one process ever writes.")


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
    """Tests: make the next write probe again."""
    with _PROBE_LOCK:
        _PROBED.clear()
