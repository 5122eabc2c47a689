"""Routes that name versions the way people do, and resolve pipelines.

``resolve`` accepts every reference :mod:`s3opstore.registry.refs` does
(``latest``, ``1.2.0``, an alias, a version string, a unique version id prefix)
or ``op@ref`` in ``op_name`` alone; ``resolve_pipeline`` is Chariots' load
rule, the same answer as ``s3opstore resolve``.
"""

from __future__ import annotations

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.registry.opstore import OpStore

__all__ = [
    "MissingLinkInfo",
    "OpResolutionInfo",
    "PipelineResolutionResponse",
    "ResolvePipelineRequest",
    "ResolveRequest",
    "resolve",
    "resolve_pipeline",
]


class ResolveRequest(m._Request):
    op_name: m.OpName = Field(description="the op (``op@ref`` here is not split: use ``ref``)")
    ref: str = Field(default="latest", min_length=1, max_length=256,
                     description="latest, a number like 1.2.0, an alias, a version string or a "
                                 "unique version id prefix (at least 4 hex characters)")


class ResolvePipelineRequest(m._Request):
    pipeline_name: m.PipelineName


class OpResolutionInfo(m._Response):
    op_name: str
    version: m.VersionInfo
    downstream: list[str] = Field(description="the ops this op feeds ([]: the last op)")
    is_latest: bool


class MissingLinkInfo(m._Response):
    upstream: str
    downstream: str | None
    reason: str


class PipelineResolutionResponse(m._Response):
    pipeline_name: str
    last_op_name: str
    ok: bool = Field(description="false: some op cannot be loaded, see missing")
    ops: list[OpResolutionInfo]
    missing: list[MissingLinkInfo]


def resolve(store: OpStore, req: ResolveRequest, call: Call) -> m.VersionInfo:
    return m.VersionInfo.of(store.resolve(req.op_name, req.ref))


def resolve_pipeline(store: OpStore, req: ResolvePipelineRequest,
                     call: Call) -> PipelineResolutionResponse:
    result = store.resolve_pipeline(req.pipeline_name)
    return PipelineResolutionResponse(
        pipeline_name=result.pipeline, last_op_name=result.last_op, ok=result.ok,
        ops=[OpResolutionInfo(op_name=op.op_name, version=m.VersionInfo.of(op.record),
                              downstream=list(op.downstream), is_latest=op.is_latest)
             for op in result.ops],
        missing=[MissingLinkInfo(upstream=x.upstream, downstream=x.downstream, reason=x.reason)
                 for x in result.missing])
