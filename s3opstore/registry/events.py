"""The history: appending, reading and verifying hash-chained event logs (design.md, D16).

Every registry write that lands appends one :class:`~s3opstore.models.events.Event`
to its subject's chain (``events/op/<op>/`` or ``events/store/``; a link's to
the chain of its upstream version, ``events/links/<op>/<vid>/``), *after* the
manifest landed and before the call returns. The next event of a chain is a
create-only write (``If-None-Match: *``) of the next sequence number, so
concurrent writers serialise per chain without losing an event, and writers to
different ops never meet. Links have chains of their own because a contended
op's links all queued on its one chain; a store still in format 1 (D13) gets
them in the op's chain, as before.

Cost: each process keeps the chain heads it knows (sequence and digest), per
store object. With a known head the uncontended append is one PUT; without
one it is a LIST (``MaxKeys=1``) and a GET of the newest event first. A link
chain the process has not seen starts with the PUT of event 0 instead: a
version's link chain is nearly always empty, and a wrong guess costs what the
LIST would have (the 412's read-back names the event to follow). A
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
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from s3opstore.errors import ConflictError, InvalidInputError, StorageUnavailableError
from s3opstore.models.codec import encode
from s3opstore.models.events import Action, Event, event_digest, event_token, manifest_digest
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    LINK_EVENTS_PREFIX,
    OP_EVENTS_PREFIX,
    OPS_PREFIX,
    VERSION_EVENTS_PREFIX,
    chain_event_key,
    chain_prefix,
    decode_names,
    events_prefix,
    link_events_prefix,
    link_events_root,
    op_head_key,
    parse_event_key,
    parse_inverted,
    version_entry_key,
    version_events_prefix,
)
from s3opstore.models.manifests import VersionRecord, utc_now_ms
from s3opstore.models.names import check_name
from s3opstore.registry.context import Context
from s3opstore.registry.format import format_version
from s3opstore.stores.base import ObjectInfo, ObjectStore

__all__ = ["ACTOR_ENV", "LINK_CHAINS_FROM", "ChainFault", "Subject", "actor", "append_event",
           "chain_of", "forget_heads", "history", "logged_ops", "read_chain", "read_log",
           "verify_chain", "version_event"]

ACTOR_ENV = "S3OPSTORE_ACTOR"
# The store format from which a link's event goes to its upstream version's own chain: an
# older release reading the store would take those chains for bad keys (D13, D16).
LINK_CHAINS_FROM = 2
_TRANSIENT_RETRIES = 3
_ZERO = "0" * 64
# Chain heads kept per store object: one link chain per version linked would otherwise
# grow a long-lived worker's memory without end; a head evicted costs a LIST or a 412.
_HEADS_KEPT = 1024

# store object -> chain prefix -> its newest known event, or None: seen contended, so the
# next append starts with a LIST (for a link chain: not with the guess of event 0)
_HEADS: weakref.WeakKeyDictionary[ObjectStore, OrderedDict[str, Event | None]] = (
    weakref.WeakKeyDictionary())
_HEADS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Subject:
    """What a write was about. ``op`` names the chain (None: the store's), but for a
    link's in a store of format 2 or later: that goes to the chain of ``version``, the
    upstream ``op``'s version it validates."""

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


def chain_of(ctx: Context, subject: Subject) -> str:
    """The prefix of the chain ``subject``'s event goes to, by the store's format."""
    if (subject.action == "link.register" and subject.op is not None
            and subject.version is not None
            and format_version(ctx.store) >= LINK_CHAINS_FROM):
        return link_events_prefix(subject.op, subject.version)
    return events_prefix(subject.op)


def _known_head(store: ObjectStore, chain: str) -> tuple[bool, Event | None]:
    """(whether the process has seen the chain, its newest known event)."""
    with _HEADS_LOCK:
        try:
            heads = _HEADS.get(store)
        except TypeError:  # a store object that cannot be weakly referenced: no cache
            return False, None
        if heads is None or chain not in heads:
            return False, None
        heads.move_to_end(chain)
        return True, heads[chain]


def _remember(store: ObjectStore, chain: str, event: Event | None) -> None:
    """Keep ``event`` as the chain's known head (None: contended, start with a LIST)."""
    with _HEADS_LOCK:
        try:
            heads = _HEADS.setdefault(store, OrderedDict())
        except TypeError:
            return
        known = heads.get(chain)
        if event is None or known is None or known.seq < event.seq:
            heads[chain] = event
        heads.move_to_end(chain)
        while len(heads) > _HEADS_KEPT:
            heads.popitem(last=False)


def forget_heads() -> None:
    """Tests: behave like a new process (no chain head known)."""
    with _HEADS_LOCK:
        _HEADS.clear()


def _listed_head(ctx: Context, chain: str) -> tuple[int, Event | None]:
    """The newest event's seq (by its key) and the event: LIST MaxKeys=1 and GET."""
    for info in ctx.store.list(chain, limit=1):
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


def version_event(ctx: Context, record: VersionRecord, prev: Event | None,
                  owner: tuple[str, str, int] | None = None) -> Event:
    """The event of a version about to be committed: it rides in the op head with the
    record and takes the record's own seq in the op's version chain, after ``prev``
    (the event the head being replaced carries), so it never races (D16).

    ``owner``: (actor, host, pid) of the writer whose version this is, when another
    writer commits it for it (a group commit, D18); else this process.
    """
    if owner is None:
        identity = ctx.identity
        owner = (actor(), identity.host, identity.pid)
    return _build(Subject("version.register", record.op_name, record.version.vid),
                  record.seq, None if prev is None else prev.digest,
                  version_entry_key(record), manifest_digest(encode(record)), *owner, False)


def append_event(ctx: Context, subject: Subject, manifest_key: str, manifest_sha256: str, *,
                 recovered: bool = False) -> Event:
    """Append the event for a write that landed (one PUT with a known chain head, or to
    a link chain this process has not seen)."""
    store, committer = ctx.store, ctx.committer
    identity, who = ctx.identity, actor()
    ctx.ensure_safe()  # an event may be a process's first write: it settles the format
    chain = chain_of(ctx, subject)
    seen, known = _known_head(store, chain)
    head: tuple[int, Event | None] | None = None if known is None else (known.seq, known)
    if not seen and chain.startswith(LINK_EVENTS_PREFIX):
        head = (-1, None)  # a version's link chain is nearly always empty: guess event 0
    collided = False
    transient = 0
    for attempt in range(ctx.retry.max_attempts):
        try:
            if head is None:
                head = _listed_head(ctx, chain)
            newest = head[1]
            if newest is not None and newest.token == event_token(manifest_key,
                                                                  manifest_sha256):
                return newest  # this very write is the chain's newest event already
            seq, prev = head[0] + 1, None if newest is None else newest.digest
            event = _build(subject, seq, prev, manifest_key, manifest_sha256, who,
                           identity.host, identity.pid, recovered)
            stored, created = committer.create(chain_event_key(chain, seq), event)
        except StorageUnavailableError:
            transient += 1
            if transient > _TRANSIENT_RETRIES:
                raise
            ctx.retry.sleep(attempt)
            continue
        if created:
            # A chain we collided on is contended: our event is likely stale by the next
            # append, and a stale head costs a PUT (412) and a GET before the LIST anyway.
            _remember(store, chain, None if collided else event)
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


def _order(event: Event) -> tuple[object, ...]:
    return (event.at, event.op or "", event.action != "version.register", event.seq)


def _newest_first(groups: Iterable[list[Event]], limit: int | None) -> list[Event]:
    """Merge newest-first lists by the writers' clocks (an order for people, not a proof).

    At one millisecond a version's event sorts before the other events of its op: it
    was decided before its head moved, so before any write that could follow it.
    """
    merged: Iterator[Event] = heapq.merge(*groups, key=_order, reverse=True)
    return list(itertools.islice(merged, limit))


def _link_events(ctx: Context, op: str, limit: int | None) -> list[Event]:
    """The events of every link chain of ``op``'s versions, newest first: one LIST page per
    1,000, then a GET per event, each chain's newest ``limit`` only.

    With a limit, a big op's link chains (one per version linked) would cost a GET per
    chain, so the events to read are picked by the store's clock, the LIST's last
    modified time: the ``limit`` newest, and every one stored in the same tick as the
    last of those (S3 keeps whole seconds). Across chains that is the only common order
    that costs no request; the writers' clocks, which order what is shown, are in the
    events. A listing without times (no backend here) reads every chain's newest
    ``limit``.
    """
    infos: list[ObjectInfo] = []
    taken: dict[str, int] = {}
    for info in ctx.store.list(link_events_root(op)):
        try:
            parse_event_key(info.key)
        except ValueError:
            continue  # not an event: fsck names it
        chain = chain_prefix(info.key)  # keys come chain by chain, each newest first
        if limit is None or taken.get(chain, 0) < limit:
            taken[chain] = taken.get(chain, 0) + 1
            infos.append(info)
    stamps = [info.last_modified for info in infos]
    if limit is not None and len(infos) > limit and None not in stamps:
        cut = sorted((stamp for stamp in stamps if stamp is not None), reverse=True)[limit - 1]
        infos = [info for info in infos
                 if info.last_modified is not None and info.last_modified >= cut]
    events = []
    for info in infos:
        snapshot = ctx.committer.read(info.key, Event)
        if snapshot is not None:
            events.append(snapshot.value)
    return sorted(events, key=_order, reverse=True)


def _op_log(ctx: Context, op: str, limit: int | None) -> list[Event]:
    """One op's history: its chain, its version chain, the events its head carries (its
    latest and previous versions', which the version chain may not hold yet), and its
    versions' link chains (a store of format 1 has its link events in the op's chain)."""
    versions = read_chain(ctx, version_events_prefix(op), limit)
    head = ctx.committer.read(op_head_key(op), OpHead)
    stored = {event.seq for event in versions}
    carried = [] if head is None else head.value.carried_events()
    versions += [event for event in carried if event.seq not in stored]
    versions.sort(key=lambda event: event.seq, reverse=True)
    return _newest_first([read_chain(ctx, events_prefix(op), limit), versions,
                          _link_events(ctx, op, limit)], limit)


def logged_ops(ctx: Context) -> list[str]:
    """Every op that may have history: a chain, stored version events, link chains, or a
    head (each looked for on its own: any of them may be all that is left of an op)."""
    found: set[str] = set()
    for prefix in (OP_EVENTS_PREFIX, VERSION_EVENTS_PREFIX, LINK_EVENTS_PREFIX, OPS_PREFIX):
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
    return chain_event_key(chain_prefix(entries[0][0]), seq)


def history(store: ObjectStore, op: str | None = None, *, every: bool = False,
            limit: int | None = None) -> list[Event]:
    """The faces' entry point (``s3opstore log``, ``GET /v1/log``): see :func:`read_log`."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise InvalidInputError(f"limit {limit!r} is not a positive whole number")
    if op is not None:
        check_name(op, "op name")
    return read_log(Context(store), op, every=every, limit=limit)
