"""fsck for the history (design.md, D16): every chain intact, every write logged.

:func:`check_history` reads every event and reports, each naming its key:

- ``event_edited``: an event whose content no longer matches its digest;
- ``event_reordered``: an event stored under another sequence number than its own;
- ``event_gap``: a missing sequence number below a chain's newest;
- ``event_chain_break``: an event whose ``prev`` is not its predecessor's digest;
- ``event_subject_missing`` / ``event_subject_mismatch``: the manifest an event
  names is not in the store, or is not what was written (its SHA-256 differs; a
  version's event is checked against the registered record); also an event in
  a link chain that is not a link of that chain's version (copied from another
  chain: its first event names no predecessor, so nothing else would show it);
- ``unlogged``: a manifest no event names (its writer died, or raised, between
  the write and its event; or it predates the history). Any chain counts: a
  link's event is in its upstream version's link chain, or, written in format 1
  (D13), in the upstream op's chain, and both stay valid. A version's event rides
  in its head, so only a version from before that (or whose event was removed)
  can be unlogged. The event a head carries is checked against the head and the
  version chain it continues.

:func:`repair_history` appends one ``recovered`` event for each unlogged
manifest; it never edits or removes an event, so a damaged chain stays
reported. Running it twice appends nothing the second time. A recovered
event goes where the writer's would have (a link's: by the store's format).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from s3opstore.errors import CorruptManifestError, S3OpStoreError
from s3opstore.models.codec import decode, encode
from s3opstore.models.events import Action, Event, manifest_digest
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    EVENTS_PREFIX,
    LINK_EVENTS_PREFIX,
    alias_prefix,
    bytes_prefix,
    chain_prefix,
    decode_names,
    link_prefix,
    metadata_key,
    op_head_key,
    op_marker_key,
    parse_event_key,
    parse_link_key,
    pipeline_key,
    status_prefix,
    tags_prefix,
    upstreams_prefix,
    version_entry_key,
    version_event_key,
    version_events_prefix,
)
from s3opstore.models.manifests import (
    AliasManifest,
    BytesBinding,
    LinkManifest,
    OpMarker,
    PipelineManifest,
    StatusManifest,
    TagsManifest,
    Tokened,
    VersionMetadata,
)
from s3opstore.registry.aliases import list_aliases
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject, append_event, verify_chain
from s3opstore.registry.pipelines import list_ops, list_pipelines
from s3opstore.registry.versions import list_versions
from s3opstore.stores.base import ObjectStore

__all__ = ["Logged", "check_history", "repair_history", "unlogged_writes"]

AddFn = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class Logged:
    """A manifest that must have an event: its key, digest and what it was."""

    key: str
    sha256: str
    subject: Subject


def _read_events(store: ObjectStore, add: AddFn) -> dict[str, list[tuple[str, Event]]]:
    """Every stored event, by the prefix of its chain."""
    chains: dict[str, list[tuple[str, Event]]] = {}
    for info in store.list(EVENTS_PREFIX):
        try:
            parse_event_key(info.key)
        except ValueError as exc:
            add(info.key, "bad_key", str(exc))
            continue
        try:
            event = decode(Event, store.get(info.key).data, info.key)
        except CorruptManifestError as exc:
            add(info.key, exc.kind, exc.message)
            continue
        chains.setdefault(chain_prefix(info.key), []).append((info.key, event))
    return chains


def _merge_head_events(ctx: Context, chains: dict[str, list[tuple[str, Event]]],
                       add: AddFn) -> None:
    """Add to ``chains`` the events op heads carry (every version the head holds, D16,
    D18) that the version chain does not hold yet, each checked against its version.

    They go in under the keys the next writers will store them at, so the chain check
    (digest, gaps, links) covers them like stored events; a stored copy that differs
    from the one a head carries is ``event_edited``.
    """
    for op in list_ops(ctx):
        key = op_head_key(op)
        try:
            head = ctx.committer.read(key, OpHead)
        except S3OpStoreError:
            continue  # a damaged head: the main walk names it
        if head is None:
            continue
        prefix = version_events_prefix(op)
        stored = {e.seq: (k, e) for k, e in chains.get(prefix, [])}
        for held in head.value.held():
            event, record = held.event, held.manifest.record
            if event is None:
                continue
            if event.seq != record.seq or event.version != record.version.vid:
                add(key, "event_subject_mismatch", f"the head carries the event of seq "
                    f"{event.seq} ({event.version}) for its version of seq {record.seq}")
            if event.seq in stored:
                stored_key, copy = stored[event.seq]
                if copy.digest != event.digest:
                    add(stored_key, "event_edited", "the stored event differs from the one "
                        "the op head carries")
                continue
            chains.setdefault(prefix, []).append((version_event_key(op, event.seq), event))


def unlogged_writes(ctx: Context, logged: set[str]) -> list[Logged]:
    """Every manifest a registry write leaves whose key no event names."""
    store = ctx.store
    keys = sorted(info.key for info in store.list(""))
    present = set(keys)

    def under(prefix: str) -> Iterable[str]:
        index = bisect.bisect_left(keys, prefix)
        while index < len(keys) and keys[index].startswith(prefix):
            yield keys[index]
            index += 1

    def digest_of(key: str) -> str:
        return manifest_digest(store.get(key).data)

    found: list[Logged] = []

    def want(key: str, subject: Subject) -> None:
        if key not in logged:
            found.append(Logged(key, digest_of(key), subject))

    for name in list_pipelines(ctx):
        try:
            want(pipeline_key(name), Subject("pipeline.register", None, None, name))
        except S3OpStoreError:
            continue  # a damaged pipeline: the main walk of fsck names it
    for op in list_ops(ctx):
        try:
            _op_writes(ctx, op, present, under, want, found, logged)
        except (S3OpStoreError, ValueError):
            continue  # a damaged op: the main walk names its keys
    return found


def _op_writes(ctx: Context, op: str, present: set[str], under: Callable[[str], Iterable[str]],
               want: Callable[[str, Subject], None], found: list[Logged],
               logged: set[str]) -> None:
    store = ctx.store
    if op_marker_key(op) in present:
        want(op_marker_key(op), Subject("op.declare", op))
    for record in list_versions(ctx, op).items:
        vid = record.version.vid
        key = version_entry_key(record)
        if key not in logged:
            found.append(Logged(key, manifest_digest(encode(record)),
                                Subject("version.register", op, vid)))
        if metadata_key(op, record.version) in present:
            want(metadata_key(op, record.version), Subject("metadata.register", op, vid))
        for key in under(bytes_prefix(op, record.version)):
            want(key, Subject("bytes.bind", op, vid))
        for key in under(tags_prefix(op, record.version)):
            want(key, Subject("tags.set", op, vid))
        for key in under(status_prefix(op, record.version)):
            if key not in logged:
                state = decode(StatusManifest, store.get(key).data, key).state
                want(key, Subject("status.set", op, vid, state))
    for key in under(tags_prefix(op)):
        want(key, Subject("tags.set", op))
    for key in under(status_prefix(op)):
        if key not in logged:
            state = decode(StatusManifest, store.get(key).data, key).state
            want(key, Subject("status.set", op, None, state))
    for alias in list_aliases(ctx, op, include_deleted=True):
        for key in under(alias_prefix(op, alias)):
            if key not in logged:
                entry = decode(AliasManifest, store.get(key).data, key)
                action: Action = "alias.delete" if entry.deleted else "alias.set"
                want(key, Subject(action, op, None if entry.deleted else entry.version.vid,
                                  alias))
    for up in _upstreams(ctx, op):
        for key in under(link_prefix(op, up)):
            if key not in logged:
                try:
                    vid = parse_link_key(key).vid
                except ValueError:
                    continue  # a bad_key: the main walk names it
                want(key, Subject("link.register", up, vid, op))


def _upstreams(ctx: Context, downstream: str) -> list[str]:
    return decode_names(ctx.store.list_dirs(upstreams_prefix(downstream)))


def _check_subject(ctx: Context, key: str, event: Event, add: AddFn,
                   records: dict[str, dict[str, str]]) -> None:
    if event.action == "version.register":
        op = event.op or ""
        if op not in records:
            try:
                records[op] = {r.version.vid: manifest_digest(encode(r))
                               for r in list_versions(ctx, op).items}
            except S3OpStoreError:
                records[op] = {}  # a damaged op: the main walk names its keys
        found = records[op].get(event.version or "")
    else:
        try:
            data: bytes | None = ctx.store.get(event.manifest_key).data
        except S3OpStoreError:
            data = None
        found = None if data is None else _digest_as_logged(event, data)
    if found is None:
        add(key, "event_subject_missing",
            f"{event.action} names {event.manifest_key!r}, which is not in the store")
    elif found != event.manifest_sha256:
        add(key, "event_subject_mismatch",
            f"{event.action} names {event.manifest_key!r} with sha256 "
            f"{event.manifest_sha256}, but the store holds {found}")


# what each action wrote, to read a manifest a newer writer extended (D13)
_MODELS: dict[str, type[Tokened]] = {
    "metadata.register": VersionMetadata, "bytes.bind": BytesBinding,
    "link.register": LinkManifest, "op.declare": OpMarker,
    "pipeline.register": PipelineManifest, "alias.set": AliasManifest,
    "alias.delete": AliasManifest, "tags.set": TagsManifest, "status.set": StatusManifest,
}


def _digest_as_logged(event: Event, data: bytes) -> str:
    """The stored manifest's digest; when its bytes differ from what was logged, the
    digest of its canonical form, so optional fields a newer release added (D13) are
    no mismatch, while any change to a field this release knows still is one."""
    raw = manifest_digest(data)
    model = _MODELS.get(event.action)
    if raw == event.manifest_sha256 or model is None:
        return raw
    try:
        return manifest_digest(encode(decode(model, data, event.manifest_key)))
    except S3OpStoreError:
        return raw


def _check_link_chain(entries: list[tuple[str, Event]], add: AddFn) -> None:
    """Every event of a link chain is a link of the chain's own version: a link chain
    mostly holds one event, with no ``prev``, so one copied into another version's
    chain would pass every other check."""
    for key, event in entries:
        if not key.startswith(LINK_EVENTS_PREFIX):
            return  # one chain: all its keys share the prefix
        op, _seq = parse_event_key(key)
        vid = key.split("/")[3]
        if (event.action, event.op, event.version) != ("link.register", op, vid):
            add(key, "event_subject_mismatch", f"the link chain of {op!r} version {vid} "
                f"holds {event.action} of {event.op!r} version {event.version}")


def check_history(store: ObjectStore, add: AddFn) -> set[str]:
    """Verify every chain and every event's subject; report unlogged writes.

    Returns the manifest keys the events name.
    """
    ctx = Context(store)
    chains = _read_events(store, add)
    _merge_head_events(ctx, chains, add)
    logged: set[str] = set()
    records: dict[str, dict[str, str]] = {}
    for entries in chains.values():
        for fault in verify_chain(entries):
            add(fault.key, fault.kind, fault.message)
        _check_link_chain(entries, add)
    for entries in chains.values():
        for key, event in entries:
            logged.add(event.manifest_key)
            _check_subject(ctx, key, event, add, records)
    for item in unlogged_writes(ctx, logged):
        add(item.key, "unlogged", f"{item.subject.action} has no event in the history "
            "(`s3opstore fsck --repair` appends a recovered one)")
    return logged


def repair_history(store: ObjectStore) -> list[Event]:
    """Append a ``recovered`` event for every unlogged write; returns them."""
    ctx = Context(store)
    chains = _read_events(store, lambda *_: None)
    _merge_head_events(ctx, chains, lambda *_: None)
    logged = {event.manifest_key for entries in chains.values() for _key, event in entries}
    return [append_event(ctx, item.subject, item.key, item.sha256, recovered=True)
            for item in unlogged_writes(ctx, logged)]
