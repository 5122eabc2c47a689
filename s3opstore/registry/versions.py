"""Registering and reading versions of an op.

The op's head (``ops/<op>/head.json``) holds its latest version and the one
that version replaced (``previous``), with their events (D16), and is moved
only by compare-and-swap. Before a writer's CAS drops a version from the head,
it makes sure that version's event is stored in the op's version chain and
then its listing entry (both create-only, both pure functions of the head: the
entry's key encodes the whole record). So at every instant each committed
version is either held by the head or has a listing entry and a stored event;
a version's event is never a separate write that can race or be lost. A
writer that won its CAS under contention lists its own version right away,
so the writer that drops it two commits later finds it listed with one HEAD
and creates nothing inside the head's critical section. And:

- ``latest_version``: GET head (1 request);
- ``get_versions``: GET head, then LIST the entries (1 + ceil(N/1000)); an
  entry key that does not parse is skipped and reported
  (:mod:`s3opstore.registry.listing`), never fatal to the listing;
- registering a new version: GET head, LIST the version's entry prefix (is it
  an older version? the head's filter of every version it has seen answers
  that without the LIST but for its false positives: under 0.1% up to 1,000
  versions, 2% at 2,000), PUT the dropped version's event and entry, CAS the
  head (3 requests, 4 with the LIST; an op's first version: GET + create the
  head, 2; its second: GET + CAS, 2, as nothing is dropped yet). Under
  contention the PUTs become one HEAD, and the winner lists its own version
  after its CAS (2 PUTs);
- numbers are computed against the latest version under the CAS, so
  concurrent writers get exactly the numbers sequential registration in the
  final order gives.
"""

from __future__ import annotations

import hashlib

from s3opstore.errors import (
    ConflictError,
    CorruptManifestError,
    OpNotFoundError,
    VersionNotFoundError,
)
from s3opstore.models.events import Event
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    op_head_key,
    parse_version_entry,
    version_dir,
    version_entry_key,
    version_event_key,
)
from s3opstore.models.keys import versions_prefix as _versions_prefix
from s3opstore.models.manifests import (
    VersionManifest,
    VersionNumber,
    VersionRecord,
    utc_now_ms,
)
from s3opstore.models.version import Version
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import version_event
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

    def listed(manifest: VersionManifest, event: Event | None, *, look_first: bool) -> None:
        """D2: ``manifest``'s version has its event, then its entry, stored.

        Both are copies of what a head holds (identical bytes whoever writes them),
        stored objects are never removed, and the entry is written second, so an
        entry seen stored proves both. Under contention a HEAD that finds it (1
        request) replaces the creates that would answer 412 and read back (4).
        """
        key = version_entry_key(manifest.record)
        if ctx.was_listed(key):
            return
        if not look_first or ctx.store.head(key) is None:
            if event is not None:  # None: a head from before D16's version chain
                ctx.committer.create(version_event_key(op, manifest.record.seq), event)
            ctx.committer.create(key, manifest)
        ctx.mark_listed(key)

    def put(new_head: OpHead, record: VersionRecord,
            dropped: tuple[VersionManifest, Event | None] | None) -> Put[OpHead, VersionRecord]:
        def before() -> None:  # the version the CAS drops from the head is listed first
            if dropped is not None:
                listed(*dropped, look_first=contended())

        def after() -> None:  # contended: list our own version now, outside the CAS loop
            if contended():
                listed(VersionManifest(record=record, token=new_head.token), new_head.event,
                       look_first=False)

        return Put(new_head, record, before=before, after=after)

    def decide(snapshot: Snapshot[OpHead] | None) -> Done[VersionRecord] | Put[OpHead,
                                                                               VersionRecord]:
        if snapshot is None:
            record = VersionRecord(
                op_name=op, version=version, number=(1, 0, 0), seq=0,
                registered_at=utc_now_ms(), registered_host=identity.host,
                registered_pid=identity.pid)
            keys = [(digest, version.vid)] if digest else []
            return put(OpHead.first(record, token, keys, version_event(ctx, record, None)),
                       record, None)
        nonlocal tries
        tries += 1
        head = snapshot.value
        used = dict(head.idempotency).get(digest) if digest is not None else None
        if used is not None and used != version.vid:
            raise ConflictError(
                f"idempotency key {idempotency_key!r} was already used to register "
                f"another version of op {op!r} ({used})")
        existing = registered(head)
        if existing is not None:
            return Done(existing)
        latest = head.latest
        record = VersionRecord(
            op_name=op, version=version, number=next_number(latest, version),
            seq=latest.seq + 1, registered_at=utc_now_ms(), registered_host=identity.host,
            registered_pid=identity.pid)
        keys = list(head.idempotency)
        if digest is not None:
            keys = [*keys, (digest, version.vid)][-MAX_IDEMPOTENCY_KEYS:]
        new_head = head.followed_by(record, token, keys,
                                    version_event(ctx, record, head.event))
        dropped = None if head.previous is None else (head.previous, head.previous_event)
        return put(new_head, record, dropped)

    return ctx.committer.update(op_head_key(op), OpHead, decide)
