"""fsck's checks of manifests: op heads and numbering, links, aliases, pipelines.

Each check is a function of the walk's context and the findings; ``fsck``
runs them in order (the op check first: it registers the versions the others
look up).
"""

from __future__ import annotations

from datetime import timedelta

from s3opstore.maintenance.fsck_report import Findings
from s3opstore.maintenance.fsck_walk import FsckContext, OpState
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    op_head_key,
    parse_inverted,
    parse_link_key,
    parse_pipeline_key,
    versions_prefix,
)
from s3opstore.models.manifests import (
    AliasManifest,
    LinkManifest,
    PipelineManifest,
    VersionRecord,
)
from s3opstore.registry.versions import next_number
from s3opstore.stores.local_scratch import scratch_owner

__all__ = ["check_aliases", "check_links", "check_ops", "check_pipelines",
           "note_local_scratch"]

#: local-store scratch files older than this are reported (gc's minimum scratch age)
SCRATCH_WARN_AGE = timedelta(minutes=10)


def check_ops(ctx: FsckContext, report: Findings) -> None:
    """Each op's head, seqs and numbering; registers its versions for the later checks."""
    ops = sorted(ctx.ops)
    for index, op in enumerate(ops):
        _check_op(ctx, report, op, ctx.ops[op])
        if ctx.progress is not None:
            ctx.progress(index + 1, 2 * len(ops) + 1)


def _check_op(ctx: FsckContext, report: Findings, op: str, state: OpState) -> None:
    records: dict[int, list[tuple[str, VersionRecord]]] = {}
    if state.head_key:
        report.count("ops")
        head = ctx.read(state.head_key, OpHead)
        if head is not None:
            if head.op_name != op or head.latest.op_name != op:
                report.add(state.head_key, "wrong_op",
                           f"head names op {head.op_name!r} / {head.latest.op_name!r}")
            for held in head.carried():  # its latest, its batch, and the versions they replaced
                records.setdefault(held.seq, []).append((state.head_key, held))
                for key, record in state.entries:
                    if record.version == held.version and record.seq != held.seq:
                        report.add(key, "latest_relisted",
                                   f"a version the head holds is listed with seq "
                                   f"{record.seq}, the head says {held.seq}")
    elif state.entries:
        report.add(op_head_key(op), "missing_head",
                   f"op {op!r} has {len(state.entries)} listed versions but no head")
    for key, record in state.entries:
        same = records.setdefault(record.seq, [])
        if not any(r.version == record.version for _, r in same):
            same.append((key, record))
    by_vid: dict[str, VersionRecord] = {}
    for seq in sorted(records):
        if len(records[seq]) > 1:
            keys = ", ".join(k for k, _ in records[seq])
            report.add(records[seq][0][0], "duplicate_seq",
                       f"seq {seq} is taken by {len(records[seq])} versions: {keys}")
        for key, record in records[seq]:
            if record.version.vid in by_vid and by_vid[record.version.vid].seq != seq:
                report.add(key, "duplicate_version",
                           f"version {record.version.vid} has seqs "
                           f"{by_vid[record.version.vid].seq} and {seq}")
            by_vid.setdefault(record.version.vid, record)
    seqs = sorted(records)
    if seqs and seqs != list(range(len(seqs))):
        missing = sorted(set(range(max(seqs) + 1)) - set(seqs))
        report.add(versions_prefix(op), "seq_gap",
                   f"seqs are not dense 0..{len(seqs) - 1}: missing {missing[:10]}")
    previous: VersionRecord | None = None
    for seq in seqs:
        key, record = records[seq][0]
        expected = (1, 0, 0) if previous is None else next_number(previous, record.version)
        if record.number != expected:
            report.add(key, "numbering",
                       f"seq {seq} is numbered {record.number_text}, expected "
                       "{}.{}.{}".format(*expected))
        previous = record
    ctx.registered[op] = by_vid
    report.count("versions", len(by_vid))


def check_links(ctx: FsckContext, report: Findings) -> None:
    for key in ctx.links:
        report.count("links")
        _, down_segment, up_segment, _name = key.split("/")
        downstream = ctx.name(key, down_segment)
        upstream = ctx.name(key, up_segment)
        if downstream is None or upstream is None:
            continue
        try:
            version = parse_link_key(key)
        except ValueError as exc:
            report.add(key, "bad_key", f"listings skip it: {exc}")
            continue
        manifest = ctx.read(key, LinkManifest)
        if manifest is not None and (
                manifest.downstream_op_name, manifest.upstream_op_name,
                manifest.upstream_version.vid) != (downstream, upstream, version.vid):
            report.add(key, "entry_mismatch", "link body and key disagree")
        record = ctx.registered.get(upstream, {}).get(version.vid)
        if record is None:
            report.add(key, "unregistered_version",
                       f"links version {version.vid} of op {upstream!r}, "
                       "which is not registered")
        elif record.version.creation_time != version.creation_time:
            report.add(key, "link_time",
                       f"link creation time {version.creation_time} differs from the "
                       f"registered {record.version.creation_time}")


def check_aliases(ctx: FsckContext, report: Findings) -> None:
    for key in ctx.aliases:
        report.count("alias positions")
        _, op_segment, alias_segment, name = key.split("/")
        op = ctx.name(key, op_segment)
        alias = ctx.name(key, alias_segment)
        if op is None or alias is None:
            continue
        entry: AliasManifest | None = ctx.read(key, AliasManifest)
        if entry is None:
            continue
        if (entry.op_name, entry.alias) != (op, alias):
            report.add(key, "wrong_op", f"alias body names {entry.op_name}@{entry.alias}")
        try:
            if parse_inverted(name) != entry.seq:
                report.add(key, "bad_seq", f"key and body seq {entry.seq} differ")
        except ValueError:
            report.add(key, "bad_key", "not an alias position key")
        if entry.version.vid not in ctx.registered.get(op, {}):
            report.add(key, "unregistered_version",
                       f"alias points at version {entry.version.vid} of op {op!r}, "
                       "which is not registered")


def check_pipelines(ctx: FsckContext, report: Findings) -> None:
    for key in ctx.pipelines:
        report.count("pipelines")
        try:
            name = parse_pipeline_key(key)
        except ValueError as exc:
            report.add(key, "bad_name", str(exc))
            continue
        manifest: PipelineManifest | None = ctx.read(key, PipelineManifest)
        if manifest is None:
            continue
        if manifest.pipeline_name != name:
            report.add(key, "wrong_name", f"body names {manifest.pipeline_name!r}")
        state = ctx.ops.get(manifest.last_op_name)
        if state is None or not (state.marker or state.head_key):
            report.add(key, "unknown_op",
                       f"last op {manifest.last_op_name!r} has no marker and no head")


def note_local_scratch(ctx: FsckContext, report: Findings) -> None:
    """Stale local-store scratch files are warnings (gc removes them), not problems."""
    owner = scratch_owner(ctx.store)
    if owner is None:
        return
    leftovers = owner.scratch_leftovers(SCRATCH_WARN_AGE)
    for kind, what in (("temp", "temp files of dead writers"), ("lock", "unused lock files")):
        found = [left for left in leftovers if left.kind == kind]
        if found:
            size = sum(left.size for left in found)
            report.note(f"warning: {len(found)} {what} ({size} bytes) older than "
                        f"{SCRATCH_WARN_AGE} in the local store, e.g. {found[0].path}; "
                        "`s3opstore gc` removes them")
