"""The conditional-write helper: the only code that handles conflicts and lost responses.

Three shapes of write cover the whole registry:

- :meth:`Committer.create`: a create-only object (``If-None-Match: *``);
- :meth:`Committer.update`: a compare-and-swap loop on one mutable object;
- :meth:`Committer.append`: the next record of a create-only log whose keys
  sort newest first (aliases, byte bindings).

Business rules are plain ``decide`` functions that look at the current state
and answer :class:`Done` (nothing to write, here is the result) or
:class:`Put` (write this, then the result is that). They never see a retry.

Lost responses: every manifest carries the writer's token. After a 412, a
409 or a transport failure that may have applied the write, the helper reads
the key back; our token there means our write landed. If reading back fails
too, :class:`OutcomeUnknownError` is raised and nothing is cleaned up. A
compare-and-swap that answered 412 or 409 did not apply, so :meth:`Committer.update`
skips that read: its next attempt reads the key anyway and ``decide`` recognises
work an earlier attempt already applied. Tokens
derive from the caller's idempotency key when one is given, so a retry in a
new process recognises the first attempt's write as its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from s3opstore.errors import (
    ConcurrentWriteError,
    ConflictError,
    ObjectNotFoundError,
    OutcomeUnknownError,
    PreconditionFailedError,
    S3OpStoreError,
    StorageError,
    StorageUnavailableError,
)
from s3opstore.models.codec import decode, encode
from s3opstore.models.manifests import Sequenced, Tokened
from s3opstore.stores.base import IfMatch, ObjectStore, PutMode

__all__ = ["Again", "Committer", "Done", "Put", "RetryPolicy", "Snapshot", "new_token", "same_key"]


# Only tokened manifests go through the committer: the token is how a read-back
# recognises our own write.
M = TypeVar("M", bound=Tokened)
S = TypeVar("S", bound=Sequenced)  # records of a newest-first create-only log
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded, jittered backoff for lost compare-and-swap races and 409s.

    Lost races back off with decorrelated jitter (each delay drawn between
    ``base_delay`` and three times the previous one, capped at ``max_delay``),
    and the committer carries the last delay over to its next write, halving
    it on each win: under sustained contention every writer keeps waiting
    long enough that few attempts collide, instead of restarting from
    ``base_delay`` at each new commit (a lost version race costs ~3 requests:
    the 412, a GET and a HEAD; on a shared machine every wasted request slows
    the winners down too).
    """

    max_attempts: int = 40
    base_delay: float = 0.01
    max_delay: float = 2.0

    def sleep(self, attempt: int) -> None:
        """Plain capped exponential backoff (used for 409 answers)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(attempt, 16)))
        time.sleep(random.uniform(0, ceiling))

    def next_delay(self, previous: float) -> float:
        """The delay after a lost race, given the one before it (decorrelated jitter)."""
        low = self.base_delay
        return min(self.max_delay, random.uniform(low, max(low, previous) * 3))


def new_token(idempotency_key: str | None = None, *, scope: str = "",
              content: str = "") -> str:
    """A write token: random, or derived from (scope, idempotency key, content).

    A derived token is two halves: the first names the (scope, key) pair, the
    second also the content written under it. Two callers sharing a key with
    different content thus hold different tokens, so a read-back never tells
    the loser that the winner's write was its own; :func:`same_key` still
    recognises the reuse, which is a ConflictError.
    """
    if idempotency_key is None:
        return uuid.uuid4().hex
    key_part = hashlib.sha256(f"{scope}\0{idempotency_key}".encode()).hexdigest()[:16]
    whole = hashlib.sha256(f"{scope}\0{idempotency_key}\0{content}".encode()).hexdigest()
    return key_part + whole[:16]


def same_key(token: str, other: str) -> bool:
    """Whether two derived tokens come from one (scope, idempotency key) pair."""
    return token[:16] == other[:16]


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[M]):
    key: str
    value: M
    etag: str


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    result: R


@dataclass(frozen=True, slots=True)
class Put(Generic[M, R]):
    value: M
    result: R
    before: Callable[[], None] | None = None  # prerequisite writes, run each attempt
    # Follow-up writes once ``value`` is known to have landed; an error there is dropped:
    # the commit stands, and ``after`` may only do what a later writer redoes.
    after: Callable[[], None] | None = None
    # Work to do when this compare-and-swap lost its race, before the backoff (a group
    # commit leaves its intent there, D18); an error there is dropped: it only helps.
    lost: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Again:
    """Nothing to write yet: wait as after a lost race (without lengthening the wait)
    and read again. A writer whose intent others are committing (D18) polls this way
    instead of racing them."""


Decision = Done[R] | Put[M, R]


class Committer:
    def __init__(self, store: ObjectStore, retry: RetryPolicy,
                 before_write: Callable[[], None]) -> None:
        self.store = store
        self.retry = retry
        self._before_write = before_write  # the one-time conditional-write probe
        # The backoff after the last lost race, carried over to the next write
        # (see RetryPolicy). Shared by threads: a torn update only blurs a delay.
        self._delay = 0.0

    def _lost(self) -> None:
        """Wait after a lost race: longer the more races were lost lately."""
        self._delay = self.retry.next_delay(self._delay)
        time.sleep(self._delay)

    def _won(self) -> None:
        self._delay /= 2

    @property
    def contended(self) -> bool:
        """Whether this committer lost a race lately (its carried backoff is not spent)."""
        return self._delay >= self.retry.base_delay

    # -- reads ---------------------------------------------------------------
    def read(self, key: str, model: type[M]) -> Snapshot[M] | None:
        try:
            got = self.store.get(key)
        except ObjectNotFoundError:
            return None
        return Snapshot(key, decode(model, got.data, key), got.etag)

    def _read_back(self, key: str, model: type[M]) -> Snapshot[M] | None:
        try:
            return self.read(key, model)
        except StorageError as exc:
            raise OutcomeUnknownError(
                f"write to key {key!r} may or may not have landed, and reading it back "
                f"failed ({exc.message}); retry the same call") from exc

    # -- writes --------------------------------------------------------------
    def create(self, key: str, value: M) -> tuple[M, bool]:
        """Create ``key`` once. Returns (the stored value, whether we created it)."""
        self._before_write()
        data, token = encode(value), value.token
        for attempt in range(self.retry.max_attempts):
            if self._put_create(key, data):
                return value, True
            current = self._read_back(key, type(value))
            if current is not None:
                return current.value, current.value.token == token
            self.retry.sleep(attempt)  # not applied: try again
        raise ConflictError(f"could not create key {key!r} after "
                            f"{self.retry.max_attempts} attempts")

    def _put_create(self, key: str, data: bytes) -> bool:
        """One create-only PUT: True when it landed; False when the caller must read back.

        A 412 is never taken on trust: the object is read back, so a store that
        answered 412 for a key it does not hold cannot make us skip a write.
        """
        for attempt in range(self.retry.max_attempts):
            try:
                self.store.put(key, data, mode="create")
                return True
            except ConcurrentWriteError:
                self.retry.sleep(attempt)  # 409: another conditional write in flight
            except PreconditionFailedError:
                return False
            except StorageUnavailableError as exc:
                if not exc.maybe_applied:
                    raise
                return False
        raise ConflictError(f"could not create key {key!r}: conditional writes kept "
                            "colliding (HTTP 409)")

    def update(self, key: str, model: type[M],
               decide: Callable[[Snapshot[M] | None], Decision[R, M] | Again]) -> R:
        """Compare-and-swap loop on ``key`` until ``decide`` is applied or says Done.

        ``max_attempts`` bounds the writes tried, and, separately, the waits ``decide``
        asks for (``Again``): a writer that lets others commit for it is not closer to
        giving up than one that raced them.
        """
        attempts = waits = 0
        while attempts < self.retry.max_attempts and waits <= self.retry.max_attempts:
            snapshot = self.read(key, model)
            decision = decide(snapshot)
            if isinstance(decision, Done):
                return decision.result
            if isinstance(decision, Again):
                waits += 1
                time.sleep(max(self._delay, self.retry.base_delay))
                continue
            attempts += 1
            self._before_write()
            if decision.before is not None:
                decision.before()
            mode: PutMode = "create" if snapshot is None else IfMatch(snapshot.etag)
            try:
                self.store.put(key, encode(decision.value), mode=mode)
                self._won()
                return self._landed(decision)
            except (PreconditionFailedError, ConcurrentWriteError):
                # This PUT did not apply. No read-back: the next attempt reads the key
                # anyway, after the backoff (a read now would be stale by then, and an
                # attempt on stale state is a sure loss), and ``decide`` recognises work
                # already applied -- an earlier attempt of ours that landed behind a
                # lost response, even one since superseded. On a contended key this
                # saves one GET per lost race.
                if decision.lost is not None:
                    with contextlib.suppress(S3OpStoreError):
                        decision.lost()
                self._lost()
                continue
            except StorageUnavailableError as exc:
                if not exc.maybe_applied:
                    raise
            current = self._read_back(key, model)  # unknown outcome: did ours land?
            if current is not None and current.value.token == decision.value.token:
                self._won()
                return self._landed(decision)
            self._lost()
        raise ConflictError(f"gave up updating key {key!r} after {self.retry.max_attempts} "
                            "attempts: too many concurrent writers")

    @staticmethod
    def _landed(decision: Put[M, R]) -> R:
        if decision.after is not None:
            with contextlib.suppress(S3OpStoreError):
                decision.after()
        return decision.result

    def newest(self, prefix: str, model: type[S]) -> Snapshot[S] | None:
        """The newest record of a newest-first log (1 LIST ``MaxKeys=1`` + 1 GET), or None."""
        newest_key = next((info.key for info in self.store.list(prefix, limit=1)), None)
        return None if newest_key is None else self.read(newest_key, model)

    def history(self, prefix: str, model: type[S]) -> list[S]:
        """Every record of a newest-first log, oldest first (one GET each)."""
        entries = [snapshot.value for info in self.store.list(prefix)
                   if (snapshot := self.read(info.key, model)) is not None]
        return sorted(entries, key=lambda entry: entry.seq)

    def append(self, prefix: str, key_for: Callable[[int], str], model: type[S],
               decide: Callable[[Snapshot[S] | None, int], Decision[R, S]]) -> R:
        """Add the next record of a newest-first create-only log under ``prefix``.

        ``decide(newest, next_seq)`` sees the newest record (or None) and the
        sequence number the new record would take.
        """
        for _attempt in range(self.retry.max_attempts):
            newest = self.newest(prefix, model)
            seq = 0 if newest is None else newest.value.seq + 1
            decision = decide(newest, seq)
            if isinstance(decision, Done):
                return decision.result
            _stored, created = self.create(key_for(seq), decision.value)
            if created:
                self._won()
                return decision.result
            self._lost()  # someone else took that sequence number
        raise ConflictError(f"gave up appending under {prefix!r} after "
                            f"{self.retry.max_attempts} attempts: too many concurrent writers")

