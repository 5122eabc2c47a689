"""Consistency check of a whole store; read-only.

One LIST of the prefix, then every manifest is read and checked:

- every manifest parses (a :class:`CorruptManifestError` names its key);
- a version listing entry's key encodes the same record as its body, and it
  sits under its own op and vid; an entry or link key that does not parse is
  a ``bad_key`` problem (listings skip such keys, so fsck is where they show);
- each op's head parses, names its op, and its latest version is not also
  listed with a different seq;
- the seq numbers of an op are dense ``0..N-1``, one version per seq and one
  seq per version;
- numbering is consistent: ``1.0.0`` first, then
  :func:`~s3opstore.registry.versions.next_number` along the seq order;
- every byte binding names its op and a registered version, and its blob
  exists with the bound size (``deep``: and re-hashes to the bound digest);
- links and aliases reference registered versions (links with the version's
  registered creation time); pipelines parse and their last op is known.

Every problem names the key it is about; :attr:`FsckReport.ok` is True when
there is none. Unknown keys are reported as notes, not problems. Fields a
newer writer added as optional are not problems either (design.md, D13); a
store whose root manifest is newer than this release is refused before the
walk, and a manifest needing a field this release does not know is an
``unsupported_format`` problem, not a corrupt one.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from s3opstore.errors import (
    CorruptManifestError,
    ObjectNotFoundError,
    S3OpStoreError,
    UnsupportedFormatError,
)
from s3opstore.maintenance.fsck_log import check_history
from s3opstore.models.codec import decode
from s3opstore.models.keys import (
    EVENTS_PREFIX,
    FORMAT_KEY,
    blob_key,
    name_of_segment,
    op_head_key,
    parse_inverted,
    parse_link_key,
    parse_pipeline_key,
    parse_version_entry,
    versions_prefix,
)
from s3opstore.models.manifests import (
    AliasManifest,
    BytesBinding,
    LinkManifest,
    OpHead,
    OpMarker,
    PipelineManifest,
    VersionManifest,
    VersionRecord,
)
from s3opstore.models.names import encode_name
from s3opstore.registry.format import read_format
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.versions import next_number
from s3opstore.stores.base import ObjectInfo, ObjectStore
from s3opstore.stores.local_scratch import scratch_owner

__all__ = ["FsckReport", "Problem", "fsck"]

ProgressFn = Callable[[int, int], None]
#: local-store scratch files older than this are reported (gc's minimum scratch age)
SCRATCH_WARN_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class Problem:
    key: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "kind": self.kind, "message": self.message}


@dataclass
class FsckReport:
    deep: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, key: str, kind: str, message: str) -> None:
        self.problems.append(Problem(key, kind, message))

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "deep": self.deep, "counts": dict(self.counts),
                "problems": [p.to_json() for p in self.problems], "notes": list(self.notes)}


@dataclass
class _Op:
    head: OpHead | None = None
    head_key: str = ""
    entries: list[tuple[str, VersionRecord]] = field(default_factory=list)
    bindings: list[str] = field(default_factory=list)
    blobs: dict[str, ObjectInfo] = field(default_factory=dict)
    trash: dict[str, list[ObjectInfo]] = field(default_factory=dict)
    marker: bool = False


class _Checker:
    def __init__(self, store: ObjectStore, report: FsckReport) -> None:
        self.store = store
        self.report = report
        self.ops: dict[str, _Op] = {}
        self.links: list[str] = []
        self.aliases: list[str] = []
        self.pipelines: list[str] = []
        self.registered: dict[str, dict[str, VersionRecord]] = {}

    def count(self, name: str) -> None:
        self.report.counts[name] = self.report.counts.get(name, 0) + 1

    def read(self, key: str, model: type[Any]) -> Any:
        """The parsed manifest, or None after recording why it could not be read."""
        try:
            return decode(model, self.store.get(key).data, key)
        except CorruptManifestError as exc:
            self.report.add(key, "corrupt_manifest", exc.message)
        except UnsupportedFormatError as exc:  # a newer writer's must-understand field
            self.report.add(key, exc.kind, exc.message)
        except ObjectNotFoundError:
            self.report.add(key, "vanished", "listed, then not found (deleted meanwhile?)")
        return None

    def name(self, key: str, segment: str) -> str | None:
        """The name a key segment encodes, or None after reporting that it encodes none."""
        try:
            return name_of_segment(segment)
        except ValueError as exc:
            hint = ""
            with contextlib.suppress(S3OpStoreError):
                hint = (f"; if it was written before names were encoded, the name {segment!r} "
                        f"is now stored as {encode_name(segment)!r}")
            self.report.add(key, "bad_name", f"{exc}{hint}")
            return None

    # -- classification --------------------------------------------------------
    def classify(self, info: ObjectInfo) -> None:
        if info.key.startswith(EVENTS_PREFIX):
            return self.count("events")  # checked by fsck_log (D16)
        parts = info.key.split("/")
        top = parts[0]
        if top == "ops" and len(parts) >= 3:
            name = self.name(info.key, parts[1])
            if name is None:
                return
            parts[1] = name
            op = self.ops.setdefault(name, _Op())
            kind = parts[2]
            if kind == "head.json" and len(parts) == 3:
                op.head_key = info.key
                return
            if kind == "op.json" and len(parts) == 3:
                op.marker = True
                self.check_marker(parts[1], info.key)
                return
            if kind == "versions" and len(parts) == 5:
                self.check_entry(parts[1], info.key, op)
                return
            if kind == "bytes" and len(parts) == 5:
                op.bindings.append(info.key)
                return
            if kind == "blobs" and len(parts) == 5 and parts[3] == "sha256":
                op.blobs[parts[4]] = info
                return
            if kind == "meta" and len(parts) == 4:
                self.count("version metadata")
                return
            if kind == "uploads" and len(parts) == 4:
                self.count("uncommitted uploads")
                return
            if kind == "trash" and len(parts) == 6 and parts[3] == "sha256":
                op.trash.setdefault(parts[4], []).append(info)
                self.count("trash copies")
                return
        elif top == "links" and len(parts) == 4:
            self.links.append(info.key)
            return
        elif top == "pipelines" and len(parts) == 2 and parts[1].endswith(".json"):
            self.pipelines.append(info.key)
            return
        elif top == "aliases" and len(parts) == 4:
            self.aliases.append(info.key)
            return
        elif top == "tags" and len(parts) in (4, 5):
            self.count("tag positions")
            return
        elif top == "status" and len(parts) in (4, 5):
            self.count("status positions")
            return
        elif info.key == FORMAT_KEY:
            return  # read (and its version checked) before the walk, by fsck() itself
        elif top == "_s3opstore":
            self.count("scratch objects")
            return
        self.report.notes.append(f"unknown key {info.key!r} (not part of the registry layout)")

    # -- per kind -------------------------------------------------------------------
    def check_marker(self, op: str, key: str) -> None:
        marker = self.read(key, OpMarker)
        if marker is not None and marker.op_name != op:
            self.report.add(key, "wrong_op", f"op marker names op {marker.op_name!r}")

    def check_entry(self, op: str, key: str, state: _Op) -> None:
        self.count("version entries")
        try:
            from_key = parse_version_entry(op, key)
        except ValueError as exc:
            self.report.add(key, "bad_key", f"listings skip it, the version it stands for is "
                            f"not listed: {exc}")
            return
        # The key encodes the record readers use; a corrupt body is its own problem.
        state.entries.append((key, from_key))
        manifest = self.read(key, VersionManifest)
        if manifest is None:
            return
        body = manifest.record
        if (body.op_name, body.version.vid, body.number, body.seq) != (
                op, from_key.version.vid, from_key.number, from_key.seq) or (
                body.version.creation_time != from_key.version.creation_time):
            self.report.add(key, "entry_mismatch",
                            f"key says {from_key.number_text} seq {from_key.seq} "
                            f"{from_key.version}, body says {body.op_name} "
                            f"{body.number_text} seq {body.seq} {body.version}")

    def check_op(self, op: str, state: _Op) -> None:
        records: dict[int, list[tuple[str, VersionRecord]]] = {}
        if state.head_key:
            self.count("ops")
            head = self.read(state.head_key, OpHead)
            if head is not None:
                if head.op_name != op or head.latest.op_name != op:
                    self.report.add(state.head_key, "wrong_op",
                                    f"head names op {head.op_name!r} / {head.latest.op_name!r}")
                records.setdefault(head.latest.seq, []).append((state.head_key, head.latest))
                for key, record in state.entries:
                    if record.version == head.latest.version and record.seq != head.latest.seq:
                        self.report.add(key, "latest_relisted",
                                        f"the head's latest version is listed with seq "
                                        f"{record.seq}, the head says {head.latest.seq}")
        elif state.entries:
            self.report.add(op_head_key(op), "missing_head",
                            f"op {op!r} has {len(state.entries)} listed versions but no head")
        for key, record in state.entries:
            same = records.setdefault(record.seq, [])
            if not any(r.version == record.version for _, r in same):
                same.append((key, record))
        by_vid: dict[str, VersionRecord] = {}
        for seq in sorted(records):
            if len(records[seq]) > 1:
                keys = ", ".join(k for k, _ in records[seq])
                self.report.add(records[seq][0][0], "duplicate_seq",
                                f"seq {seq} is taken by {len(records[seq])} versions: {keys}")
            for key, record in records[seq]:
                if record.version.vid in by_vid and by_vid[record.version.vid].seq != seq:
                    self.report.add(key, "duplicate_version",
                                    f"version {record.version.vid} has seqs "
                                    f"{by_vid[record.version.vid].seq} and {seq}")
                by_vid.setdefault(record.version.vid, record)
        seqs = sorted(records)
        if seqs and seqs != list(range(len(seqs))):
            missing = sorted(set(range(max(seqs) + 1)) - set(seqs))
            self.report.add(versions_prefix(op), "seq_gap",
                            f"seqs are not dense 0..{len(seqs) - 1}: missing {missing[:10]}")
        previous: VersionRecord | None = None
        for seq in seqs:
            key, record = records[seq][0]
            expected = (1, 0, 0) if previous is None else next_number(previous, record.version)
            if record.number != expected:
                self.report.add(key, "numbering",
                                f"seq {seq} is numbered {record.number_text}, expected "
                                "{}.{}.{}".format(*expected))
            previous = record
        self.registered[op] = by_vid
        self.report.counts["versions"] = self.report.counts.get("versions", 0) + len(by_vid)

    def check_bindings(self, op: str, state: _Op, deep: bool) -> None:
        for key in state.bindings:
            self.count("byte bindings")
            binding = self.read(key, BytesBinding)
            if binding is None:
                continue
            vid = key.split("/")[3]
            if binding.op_name != op or binding.version.vid != vid:
                self.report.add(key, "wrong_op",
                                f"binding names {binding.op_name} {binding.version.vid}")
            try:
                if parse_inverted(key.rsplit("/", 1)[1]) != binding.seq:
                    self.report.add(key, "bad_seq", f"key and body seq {binding.seq} differ")
            except ValueError:
                self.report.add(key, "bad_key", "not a byte binding key")
            if vid not in self.registered.get(op, {}):
                self.report.add(key, "unregistered_version",
                                f"bytes bound to version {vid} which is not registered")
            blob = state.blobs.get(binding.sha256)
            where = blob_key(op, binding.sha256)
            aside = [i for i in state.trash.get(binding.sha256, []) if i.size == binding.size]
            if blob is None and aside:
                # gc set it aside and a binding came (or gc died before putting it back):
                # readers load the copy, and the next gc run restores the blob.
                self.report.notes.append(f"blob {where} is in the trash ({aside[0].key}) while "
                                         f"{key} binds it; `s3opstore gc` puts it back")
            elif blob is None:
                self.report.add(key, "missing_blob", f"its blob {where} is missing")
            elif blob.size != binding.size:
                self.report.add(key, "blob_size",
                                f"blob {where} has {blob.size} bytes, bound size {binding.size}")
        self.report.counts["blobs"] = self.report.counts.get("blobs", 0) + len(state.blobs)
        if deep:
            for digest, info in state.blobs.items():
                self.rehash(info.key, digest)

    def rehash(self, key: str, digest: str) -> None:
        hasher = _Hasher()
        try:
            self.store.download(key, hasher)  # type: ignore[arg-type]
        except ObjectNotFoundError:
            self.report.add(key, "vanished", "listed, then not found (deleted meanwhile?)")
            return
        self.count("blobs re-hashed")
        if hasher.hexdigest() != digest:
            self.report.add(key, "blob_digest",
                            f"content hashes to sha256 {hasher.hexdigest()}, not its name")

    def check_links(self) -> None:
        for key in self.links:
            self.count("links")
            _, down_segment, up_segment, _name = key.split("/")
            downstream = self.name(key, down_segment)
            upstream = self.name(key, up_segment)
            if downstream is None or upstream is None:
                continue
            try:
                version = parse_link_key(key)
            except ValueError as exc:
                self.report.add(key, "bad_key", f"listings skip it: {exc}")
                continue
            manifest = self.read(key, LinkManifest)
            if manifest is not None and (
                    manifest.downstream_op_name, manifest.upstream_op_name,
                    manifest.upstream_version.vid) != (downstream, upstream, version.vid):
                self.report.add(key, "entry_mismatch", "link body and key disagree")
            record = self.registered.get(upstream, {}).get(version.vid)
            if record is None:
                self.report.add(key, "unregistered_version",
                                f"links version {version.vid} of op {upstream!r}, "
                                "which is not registered")
            elif record.version.creation_time != version.creation_time:
                self.report.add(key, "link_time",
                                f"link creation time {version.creation_time} differs from the "
                                f"registered {record.version.creation_time}")

    def check_aliases(self) -> None:
        for key in self.aliases:
            self.count("alias positions")
            _, op_segment, alias_segment, name = key.split("/")
            op = self.name(key, op_segment)
            alias = self.name(key, alias_segment)
            if op is None or alias is None:
                continue
            entry: AliasManifest | None = self.read(key, AliasManifest)
            if entry is None:
                continue
            if (entry.op_name, entry.alias) != (op, alias):
                self.report.add(key, "wrong_op", f"alias body names {entry.op_name}@{entry.alias}")
            try:
                if parse_inverted(name) != entry.seq:
                    self.report.add(key, "bad_seq", f"key and body seq {entry.seq} differ")
            except ValueError:
                self.report.add(key, "bad_key", "not an alias position key")
            if entry.version.vid not in self.registered.get(op, {}):
                self.report.add(key, "unregistered_version",
                                f"alias points at version {entry.version.vid} of op {op!r}, "
                                "which is not registered")

    def check_pipelines(self) -> None:
        for key in self.pipelines:
            self.count("pipelines")
            try:
                name = parse_pipeline_key(key)
            except ValueError as exc:
                self.report.add(key, "bad_name", str(exc))
                continue
            manifest: PipelineManifest | None = self.read(key, PipelineManifest)
            if manifest is None:
                continue
            if manifest.pipeline_name != name:
                self.report.add(key, "wrong_name", f"body names {manifest.pipeline_name!r}")
            state = self.ops.get(manifest.last_op_name)
            if state is None or not (state.marker or state.head_key):
                self.report.add(key, "unknown_op",
                                f"last op {manifest.last_op_name!r} has no marker and no head")


class _Hasher:
    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def fsck(opstore: OpStore | ObjectStore, *, deep: bool = False,
         progress: ProgressFn | None = None) -> FsckReport:
    """Check the whole store; never writes. ``deep`` re-hashes every blob."""
    store = opstore.store if isinstance(opstore, OpStore) else opstore
    report = FsckReport(deep=deep)
    checker = _Checker(store, report)
    try:
        read_format(store)  # a newer format is refused, not reported as damage (D13)
        for info in store.list(""):
            checker.classify(info)
        ops = sorted(checker.ops)
        for index, op in enumerate(ops):
            checker.check_op(op, checker.ops[op])
            if progress is not None:
                progress(index + 1, 2 * len(ops) + 1)
        for index, op in enumerate(ops):
            checker.check_bindings(op, checker.ops[op], deep)
            if progress is not None:
                progress(len(ops) + index + 1, 2 * len(ops) + 1)
        checker.check_links()
        checker.check_aliases()
        checker.check_pipelines()
        check_history(store, report.add)  # the event chains (D16): maintenance/fsck_log.py
        _note_local_scratch(store, report)
    except S3OpStoreError as exc:
        report.add("", exc.kind, f"fsck could not finish: {exc.message}")
    if progress is not None:
        progress(1, 1)
    return report


def _note_local_scratch(store: ObjectStore, report: FsckReport) -> None:
    """Stale local-store scratch files are warnings (gc removes them), not problems."""
    owner = scratch_owner(store)
    if owner is None:
        return
    leftovers = owner.scratch_leftovers(SCRATCH_WARN_AGE)
    for kind, what in (("temp", "temp files of dead writers"), ("lock", "unused lock files")):
        found = [left for left in leftovers if left.kind == kind]
        if found:
            size = sum(left.size for left in found)
            report.notes.append(f"warning: {len(found)} {what} ({size} bytes) older than "
                                f"{SCRATCH_WARN_AGE} in the local store, e.g. {found[0].path}; "
                                "`s3opstore gc` removes them")
