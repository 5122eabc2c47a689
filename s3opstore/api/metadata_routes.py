"""Routes for registration metadata and mutable tags.

``register_version`` registers a version with its immutable metadata;
``get_metadata`` returns a version's metadata with its and its op's mutable
tags; ``set_tags`` changes the tags of an op (no ``ref``) or of a version.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.models.manifests import MetaKey, MetaText, ParamValue
from s3opstore.registry.opstore import OpStore

__all__ = [
    "MetadataBody",
    "MetadataRequest",
    "MetadataResponse",
    "RegisterVersionRequest",
    "SetTagsRequest",
    "TagsResponse",
    "get_metadata",
    "register_version",
    "set_tags",
]

_REF = Field(default="latest", min_length=1, max_length=256,
             description="latest, a number like 1.2.0, an alias, a version string or a unique "
                         "version id prefix")


class MetadataBody(m._Request):
    description: str | None = Field(default=None, max_length=4096)
    tags: dict[MetaKey, MetaText] = Field(default_factory=dict)
    params: dict[MetaKey, ParamValue] = Field(default_factory=dict)
    metrics: dict[MetaKey, float] = Field(default_factory=dict,
                                          description="finite numbers")
    source: dict[MetaKey, MetaText] = Field(
        default_factory=dict, description="by convention commit, run_url, user")


class RegisterVersionRequest(m._Request):
    op_name: m.OpName
    version: m.VersionField
    metadata: MetadataBody | None = Field(
        default=None, description="immutable; registering again with other metadata is 409")


class MetadataRequest(m._Request):
    op_name: m.OpName
    ref: str = _REF


class MetadataResponse(m._Response):
    op_name: str
    version: m.VersionInfo
    metadata: dict[str, Any] | None = Field(
        description="{description, tags, params, metrics, source}; null: registered without")
    tags: dict[str, str] = Field(description="the version's current mutable tags")
    op_tags: dict[str, str] = Field(description="the op's current mutable tags")


class SetTagsRequest(m._Request):
    op_name: m.OpName
    ref: str | None = Field(default=None, min_length=1, max_length=256,
                            description="the version (any reference); omit for the op's tags")
    tags: dict[MetaKey, MetaText] = Field(default_factory=dict)
    unset: list[MetaKey] = Field(default_factory=list, max_length=1000)


class TagsResponse(m._Response):
    op_name: str
    version: str | None
    seq: int = Field(description="position in the tags' history, from 0")
    tags: dict[str, str]


def register_version(store: OpStore, req: RegisterVersionRequest, call: Call) -> m.VersionInfo:
    metadata = None if req.metadata is None else req.metadata.model_dump()
    return m.VersionInfo.of(store.register_version(
        req.op_name, req.version, idempotency_key=call.idempotency_key, metadata=metadata))


def get_metadata(store: OpStore, req: MetadataRequest, call: Call) -> MetadataResponse:
    record = store.resolve(req.op_name, req.ref)
    meta = store.get_metadata(req.op_name, record.version)
    body = None if meta is None else {
        "description": meta.description, "tags": meta.tags, "params": meta.params,
        "metrics": meta.metrics, "source": meta.source}
    return MetadataResponse(op_name=req.op_name, version=m.VersionInfo.of(record), metadata=body,
                            tags=store.get_tags(req.op_name, record.version),
                            op_tags=store.get_tags(req.op_name))


def set_tags(store: OpStore, req: SetTagsRequest, call: Call) -> TagsResponse:
    entry = store.set_tags(req.op_name, req.tags, unset=req.unset, version=req.ref,
                           idempotency_key=call.idempotency_key)
    return TagsResponse(op_name=entry.op_name,
                        version=None if entry.version is None else str(entry.version),
                        seq=entry.seq, tags=dict(entry.tags))
