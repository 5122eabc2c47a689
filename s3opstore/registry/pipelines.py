"""Pipelines and ops known before their first version.

A pipeline is one create-only manifest naming its last op; Chariots registers
a pipeline before any of its ops, so the last op gets a create-only marker.
Registering an existing pipeline with the same last op is a no-op; with a
different last op it is an :class:`AlreadyExistsError` (never a duplicate).
"""

from __future__ import annotations

from s3opstore.errors import AlreadyExistsError, PipelineNotFoundError
from s3opstore.models.keys import (
    LINKS_PREFIX,
    OPS_PREFIX,
    PIPELINES_PREFIX,
    decode_names,
    op_marker_key,
    op_prefix,
    parse_pipeline_key,
    pipeline_key,
    upstreams_prefix,
)
from s3opstore.models.manifests import OpMarker, PipelineManifest, utc_now_ms
from s3opstore.registry import logged
from s3opstore.registry.commit import new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject

__all__ = ["get_pipeline", "list_ops", "list_pipelines", "op_exists", "pipeline_exists",
           "register_pipeline"]


def register_pipeline(ctx: Context, name: str, last_op: str,
                      idempotency_key: str | None = None) -> PipelineManifest:
    """The pipeline first, then its last op's marker, so a refused request writes nothing.

    A writer that dies between the two leaves a pipeline whose last op is not
    listed yet; registering the pipeline again (same last op) writes the marker.
    """
    identity = ctx.identity
    manifest = PipelineManifest(
        pipeline_name=name, last_op_name=last_op,
        token=new_token(idempotency_key, scope=f"pipeline\0{name}"),
        registered_at=utc_now_ms(), registered_host=identity.host, registered_pid=identity.pid)
    stored, _created = logged.create(ctx, Subject("pipeline.register", None, None, name),
                                     pipeline_key(name), manifest)
    if stored.last_op_name != last_op:
        raise AlreadyExistsError(
            f"pipeline {name!r} is already registered with last op {stored.last_op_name!r}, "
            f"not {last_op!r}")
    marker = OpMarker(op_name=last_op, registered_at=utc_now_ms(),
                      token=new_token(idempotency_key, scope=f"op\0{last_op}"))
    logged.create(ctx, Subject("op.declare", last_op), op_marker_key(last_op), marker)
    return stored


def pipeline_exists(ctx: Context, name: str) -> bool:
    return ctx.store.head(pipeline_key(name)) is not None


def get_pipeline(ctx: Context, name: str) -> PipelineManifest:
    snapshot = ctx.committer.read(pipeline_key(name), PipelineManifest)
    if snapshot is None:
        raise PipelineNotFoundError(f"pipeline {name!r} is not registered")
    return snapshot.value


def list_pipelines(ctx: Context) -> list[str]:
    """Registered pipeline names; keys that encode no name (foreign objects) are left out."""
    names = []
    for info in ctx.store.list(PIPELINES_PREFIX):
        try:
            names.append(parse_pipeline_key(info.key))
        except ValueError:
            continue
    return sorted(names)


def list_ops(ctx: Context) -> list[str]:
    """Ops with versions or a marker, plus ops known only as a link's downstream."""
    return sorted(set(decode_names(ctx.store.list_dirs(OPS_PREFIX)))
                  | set(decode_names(ctx.store.list_dirs(LINKS_PREFIX))))


def op_exists(ctx: Context, op: str) -> bool:
    """Whether ``list_ops`` would name ``op``: anything under its prefix, or a link into it."""
    for prefix in (op_prefix(op), upstreams_prefix(op)):
        if any(True for _ in ctx.store.list(prefix, limit=1)):
            return True
    return False
