"""Writes that leave an event: the one-line hooks the registry modules call (D16).

Each wraps one shape of :class:`~s3opstore.registry.commit.Committer` write and
appends the event only when *this call's* write landed: a create that created,
or an update/append whose applied decision is the one returned. A call that
finds the work already done (a retry, the same link again) writes nothing
and logs nothing, so retries never duplicate an event. Versions are the
exception: their event rides in the op head itself (:mod:`versions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from s3opstore.models.codec import encode
from s3opstore.models.events import manifest_digest
from s3opstore.models.manifests import Sequenced, Tokened
from s3opstore.registry.commit import Done, Put, Snapshot
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject, append_event

__all__ = ["append", "create"]

M = TypeVar("M", bound=Tokened)
S = TypeVar("S", bound=Sequenced)
R = TypeVar("R")


class _Watch(Generic[M, R]):
    """A ``decide`` that remembers what it asked to write."""

    def __init__(self, decide: Callable[..., Done[R] | Put[M, R]]) -> None:
        self._decide = decide
        self.puts: list[Put[M, R]] = []

    def __call__(self, *args: Any) -> Done[R] | Put[M, R]:
        decision = self._decide(*args)
        if isinstance(decision, Put):
            self.puts.append(decision)
        return decision

    def landed(self, result: object) -> Put[M, R] | None:
        """The Put whose result the committer returned (ours landed), else None.

        Equality too: a ``decide`` that recognises this call's own earlier position
        as already written (a retry after a lost response) returns an equal record,
        never the same object.
        """
        for put in reversed(self.puts):
            if put.result is result or put.result == result:
                return put
        return None


def create(ctx: Context, subject: Subject, key: str, value: M) -> tuple[M, bool]:
    """``committer.create``, plus the event when this call created ``key``.

    ``created`` also answers True for an earlier call with the same idempotency key
    (same token); only our own bytes (this call's ``registered_at``) get an event.
    """
    stored, created = ctx.committer.create(key, value)
    if created and stored == value:
        append_event(ctx, subject, key, manifest_digest(encode(value)))
    return stored, created


def append(ctx: Context, subject: Subject, prefix: str, key_for: Callable[[int], str],
           model: type[S], decide: Callable[[Snapshot[S] | None, int], Done[R] | Put[S, R]]
           ) -> R:
    """``committer.append``, plus the event when this call's position was written."""
    watch: _Watch[S, R] = _Watch(decide)
    result = ctx.committer.append(prefix, key_for, model, watch)
    put = watch.landed(result)
    if put is not None:
        append_event(ctx, subject, key_for(put.value.seq), manifest_digest(encode(put.value)))
    return result
