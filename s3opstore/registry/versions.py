"""Registering and reading versions of an op.

The op's head (``ops/<op>/head.json``) holds its latest version and the one
that version replaced (``previous``), with their events (D16), and is moved
only by compare-and-swap. Before a writer's CAS drops a version from the head,
it makes sure that version's listing entry and event are stored (both
create-only, both pure functions of the head: the entry's key encodes the whole
record). So at every instant each committed version is either held by the head
or has a listing entry and a stored event; a version's event is never a
separate write that can race or be lost. A writer that won its CAS under
contention stores what it committed right away, so the writer that drops it a
commit later finds it stored and creates nothing inside the head's critical
section.

Under contention (store format 2, D18) a writer that lost leaves an intent and
waits (where others wait too), and the next winner commits up to
:data:`~s3opstore.models.head.MAX_BATCH` versions in one CAS and deletes the intents it
answered: the head then also holds the batch (``batch``, ``previous_batch``),
numbered as if registered one after the other. And:

- ``latest_version``: GET head (1 request);
- ``get_versions``: GET head, then LIST the entries (1 + ceil(N/1000)); an
  entry key that does not parse is skipped and reported
  (:mod:`s3opstore.registry.listing`), never fatal to the listing;
- registering a new version: GET head, LIST the version's entry prefix (is it
  an older version? the head's filter of every version it has seen answers
  that without the LIST but for its false positives: under 0.1% up to 1,000
  versions, 2% at 2,000), PUT the dropped version's entry and event, CAS the
  head (3 requests, 4 with the LIST; an op's first version: GET + create the
  head, 2; its second: GET + CAS, 2, as nothing is dropped yet). Under
  contention, and for a dropped batch, the PUTs become one LIST of the version
  chain (format 1: a HEAD per entry), and the winner stores what it committed
  after its CAS (2 PUTs per version);
- numbers are computed against the latest version under the CAS, so
  concurrent writers get exactly the numbers sequential registration in the
  final order gives.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import timedelta

from s3opstore.errors import (
    ConflictError,
    CorruptManifestError,
    OpNotFoundError,
    S3OpStoreError,
    VersionNotFoundError,
)
from s3opstore.models.events import Event
from s3opstore.models.head import MAX_BATCH, MAX_CARRIED, HeldVersion, OpHead
from s3opstore.models.key_codecs import EPOCH, MS
from s3opstore.models.keys import (
    intent_key,
    intents_prefix,
    op_head_key,
    parse_intent_key,
    parse_inverted,
    parse_version_entry,
    version_dir,
    version_entry_key,
    version_event_key,
    version_events_prefix,
)
from s3opstore.models.keys import versions_prefix as _versions_prefix
from s3opstore.models.manifests import (
    VersionIntent,
    VersionManifest,
    VersionNumber,
    VersionRecord,
    utc_now_ms,
)
from s3opstore.models.version import Version
from s3opstore.registry.commit import Again, Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context, Identity
from s3opstore.registry.events import actor, version_event
from s3opstore.registry.format import format_version
from s3opstore.registry.listing import Listing, SkippedKey, skipped_key

__all__ = [
    "find_version",
    "get_versions",
    "held_versions",
    "latest_version",
    "list_versions",
    "next_number",
    "read_head",
    "register_version",
    "require_version",
]

MAX_IDEMPOTENCY_KEYS = 64
# How long a waiting writer's intent may be committed by others (D18). The writer that
# commits it deletes it (all it answered in one request), or else its own writer when
# its call ends; one left behind (a writer was killed) must not register a version long
# after anyone waited for it. Clocks of writers differ, so an intent dated this far in
# the future is left alone too.
INTENT_TTL = timedelta(seconds=60)
# The store format from which a writer that lost leaves an intent and batches commit them,
# and a version's entry is stored before its event (D18): an older release would refuse a
# head holding a batch, and proves a version stored by its entry (D2).
GROUP_COMMIT_FROM = 2
# A waiting writer lets others commit (it only re-reads the head) while the head moves,
# for at most this many looks in a row before it tries to commit itself: an intent
# that no winner takes (their batches are full, or they are not contended) still
# gets committed.
_POLLS = 3
# A writer leaves an intent after its first lost race only where waiting pays: when the
# last look at the op's intents found at least this many other writers waiting (else
# after its second). With few writers batches stay small, and an intent (its PUT, the
# committers' LIST and delete, the looks at the head) costs more than racing (D18).
_CROWD = 2
# At most this many intents are looked at per attempt (one LIST page).
_INTENTS_LISTED = 100


def next_number(latest: VersionRecord, version: Version) -> VersionNumber:
    """Number a new version against the op's latest registered version."""
    major, minor, patch = latest.number
    if version.major != latest.version.major:
        return (major + 1, 0, 0)
    if version.minor != latest.version.minor:
        return (major, minor + 1, 0)
    if version.patch != latest.version.patch:
        return (major, minor, patch + 1)
    return latest.number


def _batched(head: OpHead, record: VersionRecord, identity: Identity) -> bool:
    """Whether ``head`` holds ``record`` as one it committed for a waiting writer that
    is ``identity`` (D18): a version in a batch, registered under that host and pid."""
    mine = (record.registered_host, record.registered_pid) == (identity.host, identity.pid)
    return mine and any(held.manifest.record.seq == record.seq
                        for held in [*head.batch, *head.previous_batch])


def _key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def read_head(ctx: Context, op: str) -> Snapshot[OpHead] | None:
    return ctx.committer.read(op_head_key(op), OpHead)


def _entry_record(op: str, key: str) -> VersionRecord:
    try:
        return parse_version_entry(op, key)
    except ValueError as exc:
        raise CorruptManifestError(key, str(exc)) from exc


def _listed(ctx: Context, op: str, version: Version) -> VersionRecord | None:
    for info in ctx.store.list(version_dir(op, version), limit=1):
        return _entry_record(op, info.key)
    return None


def find_version(ctx: Context, op: str, version: Version,
                 head: OpHead | None = None) -> VersionRecord | None:
    """The registered record with ``version``'s hashes, or None (GET head + LIST)."""
    if head is None:
        snapshot = read_head(ctx, op)
        if snapshot is None:
            return None
        head = snapshot.value
    for record in head.carried():
        if record.version == version:
            return record
    return _listed(ctx, op, version)


def require_version(ctx: Context, op: str, version: Version) -> VersionRecord:
    snapshot = read_head(ctx, op)
    if snapshot is None:
        raise OpNotFoundError(f"op {op!r} has no registered versions")
    record = find_version(ctx, op, version, snapshot.value)
    if record is None:
        raise VersionNotFoundError(f"version {version} of op {op!r} is not registered")
    return record


def held_versions(ctx: Context, op: str) -> list[VersionRecord]:
    """The versions the op's head holds (its latest, then the one it replaced), which
    may not be listed yet (D2); empty for an op without versions. 1 GET."""
    snapshot = read_head(ctx, op)
    return [] if snapshot is None else snapshot.value.carried()


def latest_version(ctx: Context, op: str) -> VersionRecord | None:
    snapshot = read_head(ctx, op)
    return None if snapshot is None else snapshot.value.latest


def list_versions(ctx: Context, op: str) -> Listing[list[VersionRecord]]:
    """Every version in registration order, and the entry keys that did not parse.

    A malformed entry key hides that one version (reported in ``skipped``), not
    the op: the head and every other entry still answer.
    """
    # Head first, then LIST: every version committed before the head was read
    # is either held by that head or already listed.
    snapshot = read_head(ctx, op)
    if snapshot is None:
        return Listing([])
    by_seq = {record.seq: record for record in snapshot.value.carried()}
    skipped: list[SkippedKey] = []
    for info in ctx.store.list(_versions_prefix(op)):
        try:
            record = parse_version_entry(op, info.key)
        except ValueError as exc:
            skipped.append(skipped_key(info.key, exc))
            continue
        by_seq.setdefault(record.seq, record)
    return Listing([by_seq[seq] for seq in sorted(by_seq)], tuple(skipped))


def get_versions(ctx: Context, op: str) -> list[VersionRecord]:
    return list_versions(ctx, op).items


def register_version(ctx: Context, op: str, version: Version,
                     idempotency_key: str | None = None) -> VersionRecord:
    token = new_token(idempotency_key, scope=f"version\0{op}\0{version.vid}")
    digest = _key_digest(idempotency_key) if idempotency_key is not None else None
    identity = ctx.identity
    # What earlier attempts of this call proved, so a retry after a lost race
    # does not pay for it again (each saved request is one less on a contended op):
    # - ``absent_through``: ``version`` has no seq <= this (a LIST of its entry
    #   prefix found nothing while the head, holding other versions, had it);
    # - ``tries``: attempts so far; from the second on, the op is contended.
    absent_through: int | None = None
    tries = 0
    # D18: once this call lost a race, its intent (``waiting``) asks whoever wins next
    # to commit ``version`` too.
    waiting: str | None = None
    grouped = format_version(ctx.store) >= GROUP_COMMIT_FROM
    # While it waits, the head's latest seq at its last look, and how many looks in a
    # row found others committing (``polls``) without it attempting a commit itself.
    looked: int | None = None
    polls = 0
    losses = 0  # CASes this call lost

    def contended() -> bool:
        return tries >= 2 or ctx.committer.contended

    def registered(head: OpHead) -> VersionRecord | None:
        """``find_version`` on ``head``, skipping the LIST when it cannot find anything new.

        A version committed since the LIST that proved ``absent_through`` has a
        seq in (absent_through, head.latest.seq]; the head's filter of every
        version it has seen, or its window of recent version fingerprints, rules
        those out when it covers them (the filter: while the op is not much
        larger than 2,000 versions; the window: 64), and the versions the head
        holds are compared directly, so only what neither covers needs the LIST.
        """
        nonlocal absent_through
        for record in head.carried():
            if record.version == version:
                return record
        latest = head.latest
        since = 0 if absent_through is None else absent_through + 1
        if head.rules_out(version.vid, since):
            absent_through = latest.seq
            return None
        if absent_through is None or latest.seq > absent_through + 1:
            found = _listed(ctx, op, version)
            if found is not None:
                return found
        absent_through = latest.seq
        return None

    def store(held: HeldVersion) -> None:
        """D2: ``held``'s version gets its entry and its event (copies of what a head
        holds: identical bytes whoever writes them; never removed). From format 2 the
        event is written second, so an event seen stored proves both (D18); before, the
        entry was, and proves both there."""
        manifest, event = held.manifest, held.event
        key = version_entry_key(manifest.record)
        if ctx.was_listed(key):
            return
        writes: list[tuple[str, VersionManifest | Event]] = [(key, manifest)]
        if event is not None:  # None: a head from before D16's version chain
            writes.append((version_event_key(op, manifest.record.seq), event))
        for target, value in writes if grouped else reversed(writes):
            ctx.committer.create(target, value)
        ctx.mark_listed(key)

    def unstored(dropped: list[HeldVersion]) -> list[HeldVersion]:
        """Which of ``dropped`` are not stored yet (format 2, under contention: D18).

        The writer that committed them stores them right after its CAS, so look
        first: the dropped versions have consecutive seqs, and one LIST of the
        version chain from the newest of them finds their events (1 request for a
        whole batch, where creating them would answer 412 and read back: 4 each).
        """
        todo = [held for held in dropped
                if not ctx.was_listed(version_entry_key(held.manifest.record))]
        if not todo or any(held.event is None for held in todo):
            return todo  # a head from before version events: store them (D16)
        seqs = [held.manifest.record.seq for held in todo]
        chain = version_events_prefix(op)
        found: set[int] = set()
        for info in ctx.store.list(chain, start_after=version_event_key(op, max(seqs) + 1),
                                   limit=max(seqs) - min(seqs) + 1):
            with contextlib.suppress(ValueError):  # a foreign key proves nothing
                found.add(parse_inverted(info.key[len(chain):]))
        missing = []
        for held in todo:
            if held.manifest.record.seq in found:
                ctx.mark_listed(version_entry_key(held.manifest.record))
            else:
                missing.append(held)
        return missing

    def stored(dropped: list[HeldVersion], *, look_first: bool) -> None:
        """Before a CAS drops them from the head, every version in ``dropped`` is stored.

        ``look_first`` (under contention, in a format-1 store: the writer that won
        them listed them after its CAS): a HEAD of each entry first, which proves
        both there (the entry is written second).
        """
        for held in dropped:
            key = version_entry_key(held.manifest.record)
            if ctx.was_listed(key):
                continue
            if look_first and ctx.store.head(key) is not None:
                ctx.mark_listed(key)
            else:
                store(held)

    def wait() -> None:
        """Leave an intent, so the next winner may commit ours too (D18): after a lost
        race, or before a first attempt that would most likely lose one."""
        nonlocal waiting
        if waiting is not None or not grouped:
            return
        intent = VersionIntent(op_name=op, version=version, actor=actor(), host=identity.host,
                               pid=identity.pid, idempotency=digest,
                               created_at=utc_now_ms(), token=new_token())
        try:
            key = intent_key(intent)
            ctx.committer.create(key, intent)
        except (ValueError, S3OpStoreError):  # too long for a key, or not stored: an
            return  # intent only helps, so this call races as before
        waiting = key

    def mates(head: OpHead) -> list[tuple[VersionIntent, str]]:
        """The waiting versions this attempt commits with ours, oldest intent first, with
        their intents' keys.

        Looked for (one LIST: an intent's key holds all of it) by a call that waits
        itself, or whose process lost a race lately: an uncontended commit pays
        nothing. An intent is taken only when the head proves its version new (the
        filter of seen versions, from seq 0) and its idempotency key unused, so
        nothing is registered twice; any other waiting writer commits its own
        version itself.
        """
        if not grouped or (waiting is None and not ctx.committer.contended):
            return []
        now = utc_now_ms()
        used = dict(head.idempotency)
        vids, digests = {version.vid}, {digest}
        chosen: list[tuple[VersionIntent, str]] = []
        others = 0  # other writers' live intents: do they crowd this op?
        # Keys sort by age: start past the ones too old to take (left by killed writers).
        oldest = f"{intents_prefix(op)}{(now - INTENT_TTL - EPOCH) // MS:015d}"
        for info in ctx.store.list(intents_prefix(op), start_after=oldest,
                                   limit=_INTENTS_LISTED):
            intent = parse_intent_key(op, info.key)
            if info.key == waiting or intent is None or abs(
                    now - intent.created_at) > INTENT_TTL:
                continue
            others += 1
            vid = intent.version.vid
            if (vid in vids or (intent.idempotency is not None and (
                    intent.idempotency in digests or intent.idempotency in used))
                    or not head.rules_out(vid, 0)):
                continue
            chosen.append((intent, info.key))
            vids.add(vid)
            digests.add(intent.idempotency)
            if len(chosen) == MAX_BATCH - 1:
                break
        ctx.saw_waiting(op, others)
        return chosen

    def put(new_head: OpHead, record: VersionRecord, dropped: list[HeldVersion],
            taken: list[str]) -> Put[OpHead, VersionRecord]:
        # Decided now: a win halves the process's backoff, and must not make a contended
        # writer leave its versions to the writer that drops them.
        eager = contended() or bool(new_head.batch)

        def before() -> None:  # the versions the CAS drops from the head are stored first
            stored(dropped, look_first=contended() and not grouped)

        def after() -> None:  # contended: store what we committed now, outside the CAS loop
            nonlocal waiting
            if eager:
                for held in new_head.held()[:1 + len(new_head.batch)]:
                    store(held)
            done = [*taken, *([waiting] if waiting is not None else [])]
            if done:  # the intents this CAS answered, ours too: one request for them all
                ctx.store.delete_many(done)
                waiting = None

        def lost() -> None:
            nonlocal losses
            losses += 1
            if losses >= 2 or ctx.waiting_on(op) >= _CROWD:
                wait()

        return Put(new_head, record, before=before, after=after, lost=lost)

    def decide(snapshot: Snapshot[OpHead] | None) -> (
            Done[VersionRecord] | Put[OpHead, VersionRecord] | Again):
        if snapshot is None:
            record = VersionRecord(
                op_name=op, version=version, number=(1, 0, 0), seq=0,
                registered_at=utc_now_ms(), registered_host=identity.host,
                registered_pid=identity.pid)
            keys = [(digest, version.vid)] if digest else []
            return put(OpHead.first(record, token, keys, version_event(ctx, record, None)),
                       record, [], [])
        nonlocal tries
        tries += 1
        head = snapshot.value
        used = dict(head.idempotency).get(digest) if digest is not None else None
        if used is not None and used != version.vid:
            raise ConflictError(
                f"idempotency key {idempotency_key!r} was already used to register "
                f"another version of op {op!r} ({used})")
        nonlocal looked, polls, waiting
        existing = registered(head)
        if existing is not None:
            if waiting is not None and _batched(head, existing, identity):
                waiting = None  # committed from our intent: its committer deletes it
            return Done(existing)
        progressed = looked is not None and head.latest.seq > looked
        looked = head.latest.seq
        if (waiting is None and grouped and ctx.committer.contended
                and ctx.waiting_on(op) >= _CROWD):
            # This process lost races lately, and others wait: its first attempt would
            # most likely lose one too (a GET and a 412 for nothing). Ask the next winner.
            wait()
            if waiting is not None:
                return Again()
        if waiting is not None and progressed and polls < _POLLS:
            polls += 1  # others are committing, and may take our intent: do not race them
            return Again()
        polls = 0
        now = utc_now_ms()
        keys = list(head.idempotency)
        batch: list[tuple[VersionRecord, Event]] = []
        last, last_event = head.latest, head.event
        taken: list[str] = []  # the keys of the intents this attempt answers
        for intent, answered in mates(head):
            taken.append(answered)
            mate = VersionRecord(
                op_name=op, version=intent.version, number=next_number(last, intent.version),
                seq=last.seq + 1, registered_at=now, registered_host=intent.host,
                registered_pid=intent.pid)
            last_event = version_event(ctx, mate, last_event,
                                       (intent.actor, intent.host, intent.pid))
            batch.append((mate, last_event))
            if intent.idempotency is not None:
                keys.append((intent.idempotency, intent.version.vid))
            last = mate
        record = VersionRecord(
            op_name=op, version=version, number=next_number(last, version),
            seq=last.seq + 1, registered_at=now, registered_host=identity.host,
            registered_pid=identity.pid)
        if digest is not None:
            keys.append((digest, version.vid))
        dropped, carried = head.dropped_next(), []
        if grouped and (contended() or len(dropped) > 1):
            # D18: a contended writer stores what it committed right after its CAS (a
            # batch was committed by one), so look before creating: 1 LIST, where each
            # create would answer 412 and read back. What is not stored yet (its
            # committer is storing it now, or died) stays in the head while there is
            # room, instead of being stored twice
            dropped = unstored(dropped)
            if contended() and len(dropped) + len(head.batch) <= MAX_CARRIED:
                dropped, carried = [], sorted(dropped, key=lambda held: held.manifest.record.seq)
        new_head = head.followed_by(record, token, keys[-MAX_IDEMPOTENCY_KEYS:],
                                    version_event(ctx, record, last_event), mates=batch,
                                    carried=carried)
        return put(new_head, record, dropped, taken)

    try:
        return ctx.committer.update(op_head_key(op), OpHead, decide)
    finally:
        if waiting is not None:  # not answered by a commit (given up, failed): not waiting
            with contextlib.suppress(S3OpStoreError):
                ctx.store.delete(waiting)
