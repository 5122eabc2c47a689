"""Which version of each op a pipeline would load (Chariots' load rule).

Used by ``OpStore.resolve_pipeline``, the HTTP API and the CLI alike.

Starting from the pipeline's last op, walk upstream through validated links:
the upstream ops of a downstream op D are the directories under
``links/D/``. For the last op the answer is its newest version. For an
upstream op U the answer is its newest version (registration order) whose
*major* hash is among the major hashes of the versions validated for the link
U -> D, for every downstream D of U reached in the walk. When an op has no
versions or a link has no validated version, the resolution names exactly
which link is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from s3opstore.models.keys import decode_names, upstreams_prefix
from s3opstore.models.manifests import VersionRecord
from s3opstore.registry import links as _links
from s3opstore.registry import pipelines as _pipelines
from s3opstore.registry import versions as _versions
from s3opstore.registry.context import Context

__all__ = ["MissingLink", "OpResolution", "PipelineResolution", "resolve_pipeline"]


@dataclass(frozen=True)
class OpResolution:
    op_name: str
    record: VersionRecord
    downstream: tuple[str, ...]
    is_latest: bool

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op_name, "version": str(self.record.version),
                "number": self.record.number_text, "seq": self.record.seq,
                "is_latest": self.is_latest, "downstream": list(self.downstream)}


@dataclass(frozen=True)
class MissingLink:
    upstream: str
    downstream: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"upstream": self.upstream, "downstream": self.downstream, "reason": self.reason}


@dataclass
class PipelineResolution:
    pipeline: str
    last_op: str
    ops: list[OpResolution] = field(default_factory=list)
    missing: list[MissingLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "last_op": self.last_op, "ok": self.ok,
                "ops": [op.to_json() for op in self.ops],
                "missing": [m.to_json() for m in self.missing]}


def _walk(ctx: Context, last_op: str) -> tuple[list[str], dict[str, list[str]]]:
    """Ops reachable upstream from ``last_op`` (breadth first) and their downstreams."""
    order: list[str] = [last_op]
    downstreams: dict[str, list[str]] = {last_op: []}
    index = 0
    while index < len(order):
        op = order[index]
        index += 1
        upstreams = decode_names(ctx.store.list_dirs(upstreams_prefix(op)))
        for upstream in upstreams:
            if upstream not in downstreams:
                downstreams[upstream] = []
                order.append(upstream)
            downstreams[upstream].append(op)
    return order, downstreams


def resolve_pipeline(ctx: Context, pipeline_name: str) -> PipelineResolution:
    """Resolve every op of a registered pipeline (raises PipelineNotFoundError)."""
    pipeline = _pipelines.get_pipeline(ctx, pipeline_name)
    result = PipelineResolution(pipeline.pipeline_name, pipeline.last_op_name)
    order, downstreams = _walk(ctx, pipeline.last_op_name)
    for op in order:
        versions = _versions.get_versions(ctx, op)
        consumers = tuple(downstreams[op])
        if not versions:
            for downstream in consumers or (None,):
                result.missing.append(MissingLink(op, downstream,
                                                  f"op {op!r} has no registered versions"))
            continue
        allowed: set[str] | None = None
        unlinked = False
        for downstream in consumers:
            majors = {v.major for v in _links.get_validated_links(ctx, downstream, op)}
            if not majors:
                result.missing.append(MissingLink(
                    op, downstream, f"no validated link from {op!r} to {downstream!r}"))
                unlinked = True
            allowed = majors if allowed is None else allowed & majors
        if unlinked:
            continue
        candidates = versions if allowed is None else [
            r for r in versions if r.version.major in allowed]
        if not candidates:
            result.missing.append(MissingLink(
                op, ", ".join(consumers),
                f"no version of {op!r} has a major version validated by all of "
                f"{', '.join(repr(c) for c in consumers)}"))
            continue
        chosen = candidates[-1]
        result.ops.append(OpResolution(op, chosen, consumers, chosen.seq == versions[-1].seq))
    return result
