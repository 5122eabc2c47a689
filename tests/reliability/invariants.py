"""An independent checker of the registry's stored invariants (the tests' own fsck).

It reads every key under the store's root and checks, without using the
registry's read paths:

- every key belongs to the documented layout (``models/keys.py``) and parses;
- per op: the head plus the listing entries give exactly one record per seq,
  seqs dense ``0..N-1``, one seq per version, the head holding the largest,
  and numbers equal to a sequential recomputation with ``next_number``;
- byte bindings: dense seqs, a registered version, and a blob that is
  present with the promised size and sha256;
- aliases: dense seqs pointing at registered versions; an alias head holds exactly one
  position of its history (a crash may leave it behind the newest: fsck's business,
  ``stale_alias_head``); links: the upstream
  version registered with the same creation time; pipelines: their last op known.

Unreferenced blobs, conditional-write probe keys, gc clock keys and waiting writers'
intents (D18) are *leftovers* (what a crash or a lost response may leave; gc's business),
not problems.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import orjson

from s3opstore.errors import S3OpStoreError
from s3opstore.models.codec import decode
from s3opstore.models.events import Event
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    blob_key,
    name_of_segment,
    parse_intent_key,
    parse_inverted,
    parse_link_key,
    parse_version_entry,
)
from s3opstore.models.manifests import (
    AliasHead,
    AliasManifest,
    BytesBinding,
    LinkManifest,
    OpMarker,
    PipelineManifest,
    VersionManifest,
    VersionRecord,
)
from s3opstore.registry.format import read_format
from s3opstore.registry.versions import next_number
from s3opstore.stores.base import ObjectStore

_NAME = r"[a-z0-9._~=-]+"  # an encoded name: never upper case (see models/names.py)
_VID = r"[0-9a-f]{40}\.[0-9a-f]{40}\.[0-9a-f]{40}"
_PATTERNS = {
    "head": re.compile(rf"^ops/(?P<op>{_NAME})/head\.json$"),
    "marker": re.compile(rf"^ops/(?P<op>{_NAME})/op\.json$"),
    "entry": re.compile(rf"^ops/(?P<op>{_NAME})/versions/(?P<vid>{_VID})/[^/]+$"),
    "binding": re.compile(rf"^ops/(?P<op>{_NAME})/bytes/(?P<vid>{_VID})/(?P<inv>\d{{20}})\.json$"),
    "blob": re.compile(rf"^ops/(?P<op>{_NAME})/blobs/sha256/(?P<sha>[0-9a-f]{{64}})$"),
    "upload": re.compile(rf"^ops/(?P<op>{_NAME})/uploads/[0-9a-f]{{32}}$"),
    "intent": re.compile(rf"^ops/(?P<op>{_NAME})/intents/[^/]+\.json$"),
    "trash": re.compile(rf"^ops/(?P<op>{_NAME})/trash/sha256/(?P<sha>[0-9a-f]{{64}})/[0-9a-f]+$"),
    "link": re.compile(rf"^links/(?P<down>{_NAME})/(?P<up>{_NAME})/[^/]+\.json$"),
    "pipeline": re.compile(rf"^pipelines/(?P<name>{_NAME})\.json$"),
    "alias": re.compile(rf"^aliases/(?P<op>{_NAME})/(?P<alias>{_NAME})/(?P<inv>\d{{20}})\.json$"),
    "alias_head": re.compile(rf"^alias-heads/(?P<op>{_NAME})/(?P<alias>{_NAME})\.json$"),
    "probe": re.compile(r"^_s3opstore/(probe|clock)/[0-9a-f]+$"),
    "format": re.compile(r"^_s3opstore/format\.json$"),
    "event": re.compile(rf"^events/(store|op/(?P<op>{_NAME})|versions/(?P<vop>{_NAME})|"
                        rf"links/(?P<lop>{_NAME})/(?P<lvid>{_VID}))/(?P<inv>\d{{20}})\.json$"),
}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _classify(key: str) -> tuple[str, dict[str, str]] | None:
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(key)
        if match:
            parts = match.groupdict()
            try:
                for field_name in ("op", "vop", "lop", "down", "up", "name", "alias"):
                    if parts.get(field_name) is not None:
                        parts[field_name] = name_of_segment(parts[field_name])
            except ValueError:
                return None  # a segment that encodes no name is outside the layout
            return kind, parts
    return None


def check_invariants(store: ObjectStore, *, verify_blobs: bool = True) -> Report:
    report = Report()
    heads: dict[str, OpHead] = {}
    markers: set[str] = set()
    entries: dict[str, list[VersionRecord]] = {}
    bindings: dict[tuple[str, str], list[BytesBinding]] = {}
    blobs: dict[tuple[str, str], int] = {}
    aliases: dict[tuple[str, str], list[AliasManifest]] = {}
    alias_heads: dict[tuple[str, str], AliasHead] = {}
    links: list[tuple[str, str, str]] = []
    pipelines: dict[str, PipelineManifest] = {}
    events: dict[str, dict[int, Event]] = {}

    def problem(text: str) -> None:
        report.problems.append(text)

    for info in store.list(""):
        key = info.key
        report.keys.append(key)
        found = _classify(key)
        if found is None:
            problem(f"key outside the layout: {key!r}")
            continue
        kind, parts = found
        report.counts[kind] = report.counts.get(kind, 0) + 1
        try:
            if kind == "head":
                heads[parts["op"]] = decode(OpHead, store.get(key).data, key)
            elif kind == "marker":
                decode(OpMarker, store.get(key).data, key)
                markers.add(parts["op"])
            elif kind == "entry":
                record = parse_version_entry(parts["op"], key)
                body = decode(VersionManifest, store.get(key).data, key).record
                if (body.seq, body.number, body.version.vid) != (
                        record.seq, record.number, record.version.vid):
                    problem(f"entry {key!r}: body {body.seq}/{body.number} disagrees with key")
                entries.setdefault(parts["op"], []).append(record)
            elif kind == "binding":
                binding = decode(BytesBinding, store.get(key).data, key)
                if binding.seq != parse_inverted(key.rsplit("/", 1)[1]) or \
                        binding.version.vid != parts["vid"]:
                    problem(f"binding {key!r}: seq/version disagree with its key")
                bindings.setdefault((parts["op"], parts["vid"]), []).append(binding)
            elif kind == "blob":
                blobs[(parts["op"], parts["sha"])] = info.size
            elif kind == "link":
                version = parse_link_key(key)
                decode(LinkManifest, store.get(key).data, key)
                links.append((parts["up"], version.vid, str(version.creation_time)))
            elif kind == "pipeline":
                pipelines[parts["name"]] = decode(PipelineManifest, store.get(key).data, key)
            elif kind == "alias":
                entry = decode(AliasManifest, store.get(key).data, key)
                if entry.seq != parse_inverted(key.rsplit("/", 1)[1]):
                    problem(f"alias {key!r}: seq disagrees with its key")
                aliases.setdefault((parts["op"], parts["alias"]), []).append(entry)
            elif kind == "alias_head":
                alias_heads[(parts["op"], parts["alias"])] = decode(AliasHead,
                                                                    store.get(key).data, key)
            elif kind == "format":  # the root manifest (design.md, D13)
                if read_format(store) is None:
                    problem(f"root manifest {key!r} listed, then not found")
            elif kind == "event":  # the history (design.md, D16): checked per chain below
                event = decode(Event, store.get(key).data, key)
                if parts.get("lop"):  # a link chain holds the links of its version only
                    name = f"links of {parts['lop']} {parts['lvid']}"
                    if (event.action, event.op, event.version) != (
                            "link.register", parts["lop"], parts["lvid"]):
                        problem(f"{key!r}: {event.action} of {event.op!r} {event.version} "
                                "in another version's link chain")
                else:
                    name = (f"versions of {parts['vop']}" if parts.get("vop")
                            else parts.get("op") or "")
                chain = events.setdefault(name, {})
                chain[parse_inverted(parts["inv"])] = event
            elif kind == "intent":  # a writer's, left when its DELETE failed (D18)
                if parse_intent_key(name_of_segment(key.split("/")[1]), key) is None:
                    problem(f"{key!r} is not an intent")
                report.leftovers.append(key)
            elif kind in ("probe", "trash", "upload"):
                report.leftovers.append(key)
        except (S3OpStoreError, ValueError) as exc:
            problem(f"{key!r} does not parse: {exc}")

    for op, op_head in sorted(heads.items()):  # a version's event rides in its head
        stored = events.setdefault(f"versions of {op}", {})
        for carried in op_head.held():  # latest, batches (D18) and previous
            carried_event, record = carried.event, carried.manifest.record
            if carried_event is None or (carried_event.seq, carried_event.version) != (
                    record.seq, record.version.vid):
                problem(f"op {op!r}: the head does not carry the event of its version "
                        f"of seq {record.seq}")
            elif stored.setdefault(carried_event.seq, carried_event) != carried_event:
                problem(f"op {op!r}: stored version event {carried_event.seq} is not the one the "
                        "head carries")
        if max(stored, default=-1) != op_head.latest.seq:
            # (the next writer may have stored the head's own event, then died before
            # its compare-and-swap: then it is the same event)
            problem(f"op {op!r}: the version chain does not end at the head's latest "
                    f"(events {sorted(stored)}, head at {op_head.latest.seq})")

    for chain_name, chain in sorted(events.items()):
        if sorted(chain) != list(range(len(chain))):
            problem(f"history of {chain_name or 'the store'!r}: seqs {sorted(chain)} not dense")
        for seq, event in chain.items():
            fields = event.model_dump(mode="json", exclude={"digest"})
            digest = hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()
            before = chain.get(seq - 1)
            if event.seq != seq or digest != event.digest or event.prev != (
                    before.digest if before is not None else None):
                problem(f"history of {chain_name or 'the store'!r}: event {seq} is not chained")

    registered: dict[str, dict[str, VersionRecord]] = {}
    for op in sorted(set(heads) | set(entries)):
        head = heads.get(op)
        if head is None:
            problem(f"op {op!r} has version entries but no head")
            continue
        by_seq: dict[int, VersionRecord] = {}
        for record in [*entries.get(op, []), *head.carried()]:
            seen = by_seq.get(record.seq)
            if seen is not None and (seen.version.vid, seen.number) != (
                    record.version.vid, record.number):
                problem(f"op {op!r}: seq {record.seq} is both {seen.version.vid[:8]} and "
                        f"{record.version.vid[:8]} (duplicate)")
            by_seq.setdefault(record.seq, record)
        seqs = sorted(by_seq)
        if seqs != list(range(len(seqs))):
            problem(f"op {op!r}: seqs not dense: {seqs}")
        if head.latest.seq != seqs[-1]:
            problem(f"op {op!r}: head holds seq {head.latest.seq}, newest is {seqs[-1]}")
        vids: dict[str, VersionRecord] = {}
        expected = None
        for seq in seqs:
            record = by_seq[seq]
            if record.version.vid in vids:
                problem(f"op {op!r}: version {record.version.vid[:8]} registered twice "
                        f"(seqs {vids[record.version.vid].seq} and {seq})")
            vids[record.version.vid] = record
            expected = (1, 0, 0) if expected is None else next_number(
                by_seq[seq - 1], record.version)
            if record.number != expected:
                problem(f"op {op!r}: seq {seq} numbered {record.number}, expected {expected}")
        registered[op] = vids

    referenced: set[tuple[str, str]] = set()
    for (op, vid), items in bindings.items():
        if vid not in registered.get(op, {}):
            problem(f"bytes bound to unregistered version {vid[:8]} of op {op!r}")
        seqs = sorted(b.seq for b in items)
        if seqs != list(range(len(seqs))):
            problem(f"bindings of {op!r} {vid[:8]}: seqs not dense: {seqs}")
        for binding in items:
            referenced.add((op, binding.sha256))
            size = blobs.get((op, binding.sha256))
            if size is None:
                problem(f"blob {binding.sha256[:12]} of op {op!r} is missing (bound at seq "
                        f"{binding.seq} of {vid[:8]})")
            elif size != binding.size:
                problem(f"blob {binding.sha256[:12]} of op {op!r}: size {size} != {binding.size}")
            elif verify_blobs:
                data = store.get(blob_key(op, binding.sha256)).data
                if hashlib.sha256(data).hexdigest() != binding.sha256:
                    problem(f"blob {binding.sha256[:12]} of op {op!r}: content digest differs")
    report.leftovers.extend(blob_key(op, sha) for op, sha in blobs
                            if (op, sha) not in referenced)

    for (op, alias), positions in aliases.items():
        seqs = sorted(e.seq for e in positions)
        if seqs != list(range(len(seqs))):
            problem(f"alias {op}/{alias}: seqs not dense: {seqs}")
        for entry in positions:
            if entry.version.vid not in registered.get(op, {}):
                problem(f"alias {op}/{alias} seq {entry.seq} points at an unregistered version")

    for (op, alias), alias_head in alias_heads.items():
        held = {(e.seq, e.token) for e in aliases.get((op, alias), [])}
        if (alias_head.position.seq, alias_head.position.token) not in held:
            problem(f"alias head {op}/{alias} holds position {alias_head.position.seq}, which its "
                    "history does not")

    for upstream, vid, ctime in links:
        target = registered.get(upstream, {}).get(vid)
        if target is None:
            problem(f"link to unregistered version {vid[:8]} of op {upstream!r}")
        elif str(target.version.creation_time) != ctime:
            problem(f"link to {vid[:8]} of {upstream!r}: creation time {ctime} differs from "
                    f"the registered {target.version.creation_time}")

    for name, manifest in pipelines.items():
        if manifest.last_op_name not in markers:
            problem(f"pipeline {name!r}: last op {manifest.last_op_name!r} has no marker")
    return report
