"""``search_versions`` and ``search_ops``: the registry's filters, one page per call."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.errors import InvalidInputError
from s3opstore.models.manifests import MetaKey, MetaText
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.search import MAX_LIMIT

__all__ = ["SearchOpsRequest", "SearchOpsResponse", "SearchVersionsRequest",
           "SearchVersionsResponse", "VersionHitInfo", "search_ops", "search_versions"]

_LIMIT = Field(default=100, ge=1, le=MAX_LIMIT, description="page size")


class SearchVersionsRequest(m._Request):
    op_name: m.OpName
    tags: dict[MetaKey, MetaText] = Field(
        default_factory=dict, description="each must be a registration or current mutable tag")
    metrics: list[str] = Field(default_factory=list, max_length=50,
                               description='ranges like "auc>=0.9" (>=, <=, >, <, =)')
    registered_after: str | None = Field(default=None, description="ISO 8601, inclusive")
    registered_before: str | None = Field(default=None, description="ISO 8601, exclusive")
    alias: m.AliasName | None = None
    limit: int = _LIMIT
    after: str | None = Field(default=None, max_length=40,
                              description="next_after of the previous page")


class VersionHitInfo(m._Response):
    version: m.VersionInfo
    metrics: dict[str, float] | None = Field(
        description="registration metrics; null unless a tag or metric filter was given or "
                    "the version has none")
    tags: dict[str, str] = Field(description="current mutable tags (when a tag filter ran)")


class SearchVersionsResponse(m._Response):
    op_name: str
    versions: list[VersionHitInfo]
    next_after: str | None = Field(description="pass as after for the next page; null: done")


class SearchOpsRequest(m._Request):
    pattern: str = Field(default="*", min_length=1, max_length=1024,
                         description="a glob over op names (case-sensitive)")
    tags: dict[MetaKey, MetaText] = Field(default_factory=dict)
    limit: int = _LIMIT
    after: str | None = Field(default=None, max_length=1024)


class SearchOpsResponse(m._Response):
    ops: list[str]
    next_after: str | None


def _when(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{what} {text!r} is not an ISO 8601 date and time") from None


def search_versions(store: OpStore, req: SearchVersionsRequest,
                    call: Call) -> SearchVersionsResponse:
    page = store.search_versions(
        req.op_name, tags=req.tags, metrics=req.metrics,
        registered_after=_when(req.registered_after, "registered_after"),
        registered_before=_when(req.registered_before, "registered_before"), alias=req.alias,
        limit=req.limit, after=req.after)
    return SearchVersionsResponse(op_name=req.op_name, next_after=page.next_after, versions=[
        VersionHitInfo(version=m.VersionInfo.of(hit.record),
                       metrics=None if hit.metadata is None else dict(hit.metadata.metrics),
                       tags=hit.tags) for hit in page.items])


def search_ops(store: OpStore, req: SearchOpsRequest, call: Call) -> SearchOpsResponse:
    page = store.search_ops(req.pattern, tags=req.tags, limit=req.limit, after=req.after)
    return SearchOpsResponse(ops=page.items, next_after=page.next_after)
