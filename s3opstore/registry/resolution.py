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

from pydantic import Field, computed_field

from s3opstore.models.keys import decode_names, upstreams_prefix
from s3opstore.models.manifests import VersionRecord
from s3opstore.models.report import Report
from s3opstore.registry import links as _links
from s3opstore.registry import pipelines as _pipelines
from s3opstore.registry import versions as _versions
from s3opstore.registry.context import Context

__all__ = ["MissingLink", "OpResolution", "PipelineResolution", "resolve_pipeline"]


class OpResolution(Report):
    """The version of one op the pipeline would load, and which ops consume it."""

    op_name: str = Field(serialization_alias="op")
    record: VersionRecord = Field(exclude=True)
    downstream: tuple[str, ...]
    is_latest: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def version(self) -> str:
        return str(self.record.version)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number(self) -> str:
        return self.record.number_text

    @computed_field  # type: ignore[prop-decorator]
    @property
    def seq(self) -> int:
        return self.record.seq


class MissingLink(Report):
    """Why an op of the pipeline has no loadable version (``downstream`` None: the last op)."""

    upstream: str
    downstream: str | None
    reason: str


class PipelineResolution(Report):
    pipeline: str
    last_op: str
    ops: tuple[OpResolution, ...] = ()
    missing: tuple[MissingLink, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.missing


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
    ops: list[OpResolution] = []
    missing: list[MissingLink] = []
    order, downstreams = _walk(ctx, pipeline.last_op_name)
    for op in order:
        versions = _versions.get_versions(ctx, op)
        consumers = tuple(downstreams[op])
        if not versions:
            for downstream in consumers or (None,):
                missing.append(MissingLink(upstream=op, downstream=downstream,
                                           reason=f"op {op!r} has no registered versions"))
            continue
        allowed: set[str] | None = None
        unlinked = False
        for downstream in consumers:
            majors = {v.major for v in _links.get_validated_links(ctx, downstream, op)}
            if not majors:
                missing.append(MissingLink(
                    upstream=op, downstream=downstream,
                    reason=f"no validated link from {op!r} to {downstream!r}"))
                unlinked = True
            allowed = majors if allowed is None else allowed & majors
        if unlinked:
            continue
        candidates = versions if allowed is None else [
            r for r in versions if r.version.major in allowed]
        if not candidates:
            missing.append(MissingLink(
                upstream=op, downstream=", ".join(consumers),
                reason=f"no version of {op!r} has a major version validated by all of "
                f"{', '.join(repr(c) for c in consumers)}"))
            continue
        chosen = candidates[-1]
        ops.append(OpResolution(op_name=op, record=chosen, downstream=consumers,
                                is_latest=chosen.seq == versions[-1].seq))
    return PipelineResolution(pipeline=pipeline.pipeline_name, last_op=pipeline.last_op_name,
                              ops=tuple(ops), missing=tuple(missing))
