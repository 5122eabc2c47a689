"""The history: appending, reading and verifying hash-chained event logs (design.md, D16).

Every registry write that lands appends one :class:`~s3opstore.models.events.Event`
to its subject's chain (``events/op/<op>/`` or ``events/store/``), *after* the
manifest landed and before the call returns. The next event of a chain is a
create-only write (``If-None-Match: *``) of the next sequence number, so
concurrent writers serialise per chain without losing an event, and writers to
different ops never meet.

Cost: each process keeps the chain heads it knows (sequence and digest), per
store object. With a known head the uncontended append is one PUT; without
one it is a LIST (``MaxKeys=1``) and a GET of the newest event first. A
collision (someone else took the number) steps forward once from the event
that won, then falls back to the LIST; a process that collided forgets the
head, so its next append to that contended chain starts with the LIST instead
of a PUT sure to collide. Versions never append here: their event rides in the
op head and is stored, under the version's own seq, before the version leaves
the head (:func:`version_event`; :mod:`versions`, D2). A 5xx that did not apply is retried a
few times: the manifest is already there and a missing event is worth a
retry. Reads never touch the history.

Retries never duplicate: an event is appended only by the call whose write
created the manifest (:mod:`s3opstore.registry.logged`), and the event's token
derives from the manifest's key and digest, so a lost response is recognised.
"""

from __future__ import annotations

import getpass
import heapq
import itertools
import os
import socket
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from s3opstore.errors import ConflictError, InvalidInputError, StorageUnavailableError
from s3opstore.models.codec import encode
from s3opstore.models.events import Action, Event, event_digest, event_token, manifest_digest
from s3opstore.models.head import OpHead
from s3opstore.models.key_codecs import inverted
from s3opstore.models.keys import (
    OP_EVENTS_PREFIX,
    OPS_PREFIX,
    VERSION_EVENTS_PREFIX,
    chain_prefix,
    decode_names,
    event_key,
    events_prefix,
    op_head_key,
    parse_inverted,
    version_entry_key,
    version_events_prefix,
)
from s3opstore.models.manifests import VersionRecord, utc_now_ms
from s3opstore.models.names import check_name
from s3opstore.registry.context import Context
from s3opstore.stores.base import ObjectStore

__all__ = ["ACTOR_ENV", "ChainFault", "Subject", "actor", "append_event", "forget_heads",
           "history", "logged_ops", "read_chain", "read_log", "verify_chain", "version_event"]

ACTOR_ENV = "S3OPSTORE_ACTOR"
_TRANSIENT_RETRIES = 3
_ZERO = "0" * 64

# store object -> chain (op, None for the store's) -> its newest known event
_HEADS: weakref.WeakKeyDictionary[ObjectStore, dict[str | None, Event]] = (
    weakref.WeakKeyDictionary())
_HEADS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Subject:
    """What a write was about; ``op`` also names the chain (None: the store's)."""

    action: Action
    op: str | None
    version: str | None = None
    name: str | None = None


def actor() -> str:
    """``$S3OPSTORE_ACTOR`` when set, else ``user@host``."""
    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return named[:256]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME
        user = "unknown"
    return f"{user}@{socket.gethostname()}"[:256]


def _known_head(store: ObjectStore, op: str | None) -> Event | None:
    with _HEADS_LOCK:
        try:
            return _HEADS.get(store, {}).get(op)
        except TypeError:  # a store object that cannot be weakly referenced: no cache
            return None


def _remember(store: ObjectStore, op: str | None, event: Event | None) -> None:
    """Keep ``event`` as the chain's known head (None: forget it, start with a LIST)."""
    with _HEADS_LOCK:
        try:
            heads = _HEADS.setdefault(store, {})
        except TypeError:
            return
        known = heads.get(op)
        if event is None:
            heads.pop(op, None)
        elif known is None or known.seq < event.seq:
            heads[op] = event


def forget_heads() -> None:
    """Tests: behave like a new process (no chain head known)."""
    with _HEADS_LOCK:
        _HEADS.clear()


def _listed_head(ctx: Context, op: str | None) -> tuple[int, Event | None]:
    """The newest event's seq (by its key) and the event: LIST MaxKeys=1 and GET."""
    for info in ctx.store.list(events_prefix(op), limit=1):
        snapshot = ctx.committer.read(info.key, Event)
        if snapshot is not None:
            return parse_inverted(info.key.rsplit("/", 1)[-1]), snapshot.value
    return -1, None


def _build(subject: Subject, seq: int, prev: str | None, key: str, sha256: str,
           who: str, host: str, pid: int, recovered: bool) -> Event:
    draft = Event(op=subject.op, seq=seq, prev=prev, digest=_ZERO, at=utc_now_ms(), actor=who,
                  host=host, pid=pid, action=subject.action, version=subject.version,
                  name=subject.name, manifest_key=key, manifest_sha256=sha256,
                  recovered=recovered, token=event_token(key, sha256))
    return draft.model_copy(update={"digest": event_digest(draft)})


def version_event(ctx: Context, record: VersionRecord, prev: Event | None) -> Event:
    """The event of a version about to be committed: it rides in the op head with the
    record and takes the record's own seq in the op's version chain, after ``prev``
    (the event the head being replaced carries), so it never races (D16)."""
    identity = ctx.identity
    return _build(Subject("version.register", record.op_name, record.version.vid),
                  record.seq, None if prev is None else prev.digest,
                  version_entry_key(record), manifest_digest(encode(record)), actor(),
                  identity.host, identity.pid, False)


def append_event(ctx: Context, subject: Subject, manifest_key: str, manifest_sha256: str, *,
                 recovered: bool = False) -> Event:
    """Append the event for a write that landed (one PUT with a known chain head)."""
    store, committer = ctx.store, ctx.committer
    identity, who = ctx.identity, actor()
    known = _known_head(store, subject.op)
    head: tuple[int, Event | None] | None = None if known is None else (known.seq, known)
    collided = False
    transient = 0
    for attempt in range(ctx.retry.max_attempts):
        try:
            if head is None:
                head = _listed_head(ctx, subject.op)
            newest = head[1]
            if newest is not None and newest.token == event_token(manifest_key,
                                                                  manifest_sha256):
                return newest  # this very write is the chain's newest event already
            seq, prev = head[0] + 1, None if newest is None else newest.digest
            event = _build(subject, seq, prev, manifest_key, manifest_sha256, who,
                           identity.host, identity.pid, recovered)
            stored, created = committer.create(event_key(subject.op, seq), event)
        except StorageUnavailableError:
            transient += 1
            if transient > _TRANSIENT_RETRIES:
                raise
            ctx.retry.sleep(attempt)
            continue
        if created:
            # A chain we collided on is contended: our event is likely stale by the next
            # append, and a stale head costs a PUT (412) and a GET before the LIST anyway.
            _remember(store, subject.op, None if collided else event)
            return event
        # Someone else took that number: step forward from their event once, then LIST.
        head = None if collided else (seq, stored)
        collided = True
        ctx.retry.sleep(0)
    raise ConflictError(f"gave up appending to the history of "
                        f"{subject.op or 'the store'!r}: too many concurrent writers")


# -- reading ------------------------------------------------------------------------
def read_chain(ctx: Context, prefix: str, limit: int | None = None) -> list[Event]:
    """The events stored under one chain's ``prefix``, newest first (at most ``limit``)."""
    events = []
    for info in ctx.store.list(prefix, limit=limit):
        snapshot = ctx.committer.read(info.key, Event)
        if snapshot is not None:
            events.append(snapshot.value)
    return events


def _newest_first(groups: Iterable[list[Event]], limit: int | None) -> list[Event]:
    """Merge newest-first lists by the writers' clocks (an order for people, not a proof).

    At one millisecond a version's event sorts before the other events of its op: it
    was decided before its head moved, so before any write that could follow it.
    """
    merged: Iterator[Event] = heapq.merge(
        *groups, key=lambda event: (event.at, event.op or "",
                                    event.action != "version.register", event.seq),
        reverse=True)
    return list(itertools.islice(merged, limit))


def _op_log(ctx: Context, op: str, limit: int | None) -> list[Event]:
    """One op's history: its chain, its version chain, and the events its head carries
    (its latest and previous versions', which the version chain may not hold yet)."""
    versions = read_chain(ctx, version_events_prefix(op), limit)
    head = ctx.committer.read(op_head_key(op), OpHead)
    stored = {event.seq for event in versions}
    carried = [] if head is None else head.value.carried_events()
    versions += [event for event in carried if event.seq not in stored]
    versions.sort(key=lambda event: event.seq, reverse=True)
    return _newest_first([read_chain(ctx, events_prefix(op), limit), versions], limit)


def logged_ops(ctx: Context) -> list[str]:
    """Every op that may have history: a chain, stored version events, or a head."""
    found: set[str] = set()
    for prefix in (OP_EVENTS_PREFIX, VERSION_EVENTS_PREFIX, OPS_PREFIX):
        found.update(decode_names(ctx.store.list_dirs(prefix)))
    return sorted(found)


def read_log(ctx: Context, op: str | None = None, *, every: bool = False,
             limit: int | None = None) -> list[Event]:
    """Newest first: one op's history, the store's chain (``op`` None), or all of them."""
    if not every:
        return read_chain(ctx, events_prefix(None), limit) if op is None else _op_log(
            ctx, op, limit)
    groups = [read_chain(ctx, events_prefix(None), limit)]
    groups += [_op_log(ctx, name, limit) for name in logged_ops(ctx)]
    return _newest_first(groups, limit)


# -- verifying ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChainFault:
    """One thing wrong with a chain: ``kind`` is event_edited, event_reordered,
    event_gap or event_chain_break; ``key`` the event it is about."""

    key: str
    kind: str
    message: str


def verify_chain(entries: list[tuple[str, Event]]) -> list[ChainFault]:
    """Check one chain's (key, event) pairs, in any order; empty when intact.

    - edited: the event's digest does not match its content;
    - reordered: the event's own seq is not the seq its key holds;
    - gap: a sequence number below the newest is missing;
    - break: an event's ``prev`` is not the digest of the event before it.
    """
    faults: list[ChainFault] = []
    by_seq: dict[int, tuple[str, Event]] = {}
    for key, event in entries:
        seq = parse_inverted(key.rsplit("/", 1)[-1])
        if not event.intact:
            faults.append(ChainFault(key, "event_edited",
                                     "the event's content does not match its digest"))
        if event.seq != seq:
            faults.append(ChainFault(key, "event_reordered",
                                     f"the event says seq {event.seq} but is stored as {seq}"))
        by_seq[seq] = (key, event)
    if not by_seq:
        return faults
    for seq in range(max(by_seq) + 1):
        if seq not in by_seq:
            faults.append(ChainFault(event_key_hint(entries, seq), "event_gap",
                                     f"event {seq} is missing"))
            continue
        key, event = by_seq[seq]
        expected = by_seq[seq - 1][1].digest if seq - 1 in by_seq else None
        if seq == 0 and event.prev is not None:
            faults.append(ChainFault(key, "event_chain_break",
                                     "the first event names a previous event"))
        elif seq > 0 and expected is not None and event.prev != expected:
            faults.append(ChainFault(key, "event_chain_break",
                                     f"prev {event.prev} is not the digest of event {seq - 1}"))
    return faults


def event_key_hint(entries: list[tuple[str, Event]], seq: int) -> str:
    """The key a missing event would have (same chain as the others)."""
    return f"{chain_prefix(entries[0][0])}{inverted(seq)}.json"


def history(store: ObjectStore, op: str | None = None, *, every: bool = False,
            limit: int | None = None) -> list[Event]:
    """The faces' entry point (``s3opstore log``, ``GET /v1/log``): see :func:`read_log`."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise InvalidInputError(f"limit {limit!r} is not a positive whole number")
    if op is not None:
        check_name(op, "op name")
    return read_log(Context(store), op, every=every, limit=limit)
