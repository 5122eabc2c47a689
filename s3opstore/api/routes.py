"""The route table: every route's path, method, body models and function.

A route function receives the OpStore, the validated request model and a
:class:`Call` (idempotency key, limits) and returns a response model, or
``None`` for the seed's JSON ``null`` answers. Functions raise the library's
own errors; :mod:`s3opstore.api.responses` maps them to HTTP.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from s3opstore.api import (
    browse,
    log_routes,
    metadata_routes,
    ref_routes,
    retire_routes,
    search_routes,
    uploads,
)
from s3opstore.api import browse_models as bm
from s3opstore.api import models as m
from s3opstore.api.types import Call, HttpError
from s3opstore.models.manifests import VersionRecord
from s3opstore.registry.aliases import UNSET
from s3opstore.registry.opstore import OpStore

__all__ = ["ROUTES", "Route", "routes_by_path"]


RouteFunc = Callable[[OpStore, Any, Call], BaseModel | None]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    request: type[BaseModel]
    response: type[BaseModel]
    func: RouteFunc
    summary: str
    nullable: bool = False  # the answer may be JSON null
    write: bool = False
    method: str = "POST"
    tag: str = "registry"

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"


def _versions(store: OpStore, op: str, call: Call) -> list[VersionRecord]:
    listing = store.list_versions(op)
    call.skipped_keys.extend(skipped.key for skipped in listing.skipped)
    return listing.items


# -- the seed's routes -------------------------------------------------------------
def get_all_versions_of_op(store: OpStore, req: m.GetAllVersionsOfOpRequest,
                           call: Call) -> m.AllVersionsResponse | None:
    records = _versions(store, req.desired_op_name, call)
    if not records:
        return None
    return m.AllVersionsResponse(op_name=req.desired_op_name,
                                 all_versions=[str(r.version) for r in records])


def get_validated_links(store: OpStore, req: m.GetValidatedLinksRequest,
                        call: Call) -> m.ValidatedLinksResponse | None:
    listing = store.list_validated_links(req.downstream_op_name, req.upstream_op_name)
    call.skipped_keys.extend(skipped.key for skipped in listing.skipped)
    found = listing.items
    if not found:
        return None
    ordered = sorted(found, key=lambda v: (v.creation_time.isoformat(), v.vid))
    return m.ValidatedLinksResponse(downstream_op_name=req.downstream_op_name,
                                    upstream_op_name=req.upstream_op_name,
                                    upstream_versions=[str(v) for v in ordered])


def _base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def get_op_bytes_for_version(store: OpStore, req: m.GetOpBytesForVersionRequest,
                             call: Call) -> m.OpBytesResponse:
    info = store.op_bytes_info(req.desired_op_name, req.version)
    if _base64_length(info.size) + 1024 > call.config.max_response_bytes:
        raise HttpError(
            413, "response_too_large",
            f"the bytes of version {req.version} of op {req.desired_op_name!r} are {info.size}"
            f" bytes, too large for one response (limit "
            f"{call.config.max_response_bytes} bytes after base64): "
            f"{call.config.too_large_advice}")
    data = store.read_op_bytes(info)  # the registry verifies (and reads a gc trash copy)
    return m.OpBytesResponse(op_name=req.desired_op_name, op_version=str(req.version),
                             bytes=base64.b64encode(data).decode("ascii"))


def save_op_bytes(store: OpStore, req: m.SaveOpBytesRequest, call: Call) -> m.Empty:
    store.save_op_bytes(req.op_name, req.version, req.data,
                        idempotency_key=call.idempotency_key)
    return m.Empty()


def register_valid_link(store: OpStore, req: m.RegisterValidLinkRequest, call: Call) -> m.Empty:
    store.register_valid_link(req.downstream_op_name, req.upstream_op_name,
                              req.upstream_op_version, idempotency_key=call.idempotency_key)
    return m.Empty()


def pipeline_exists(store: OpStore, req: m.PipelineExistsRequest,
                    call: Call) -> m.PipelineExistsResponse:
    return m.PipelineExistsResponse(exists=store.pipeline_exists(req.pipeline_name))


def register_new_pipeline(store: OpStore, req: m.RegisterNewPipelineRequest,
                          call: Call) -> m.Empty:
    store.register_pipeline(req.pipeline_name, req.last_op_name,
                            idempotency_key=call.idempotency_key)
    return m.Empty()


# -- listing and versions ------------------------------------------------------------
def list_ops(store: OpStore, req: m.ListRequest, call: Call) -> m.ListOpsResponse:
    return m.ListOpsResponse(ops=store.list_ops())


def list_pipelines(store: OpStore, req: m.ListRequest, call: Call) -> m.ListPipelinesResponse:
    return m.ListPipelinesResponse(pipelines=store.list_pipelines())


def get_versions(store: OpStore, req: m.OpRequest, call: Call) -> m.VersionsResponse:
    return m.VersionsResponse(op_name=req.op_name, versions=[
        m.VersionInfo.of(record) for record in _versions(store, req.op_name, call)])


def get_latest_version(store: OpStore, req: m.OpRequest, call: Call) -> m.VersionInfo:
    return m.VersionInfo.of(store.resolve(req.op_name, "latest"))


def get_version(store: OpStore, req: m.GetVersionRequest, call: Call) -> m.VersionInfo:
    return m.VersionInfo.of(store.get_version(req.op_name, req.version))


# -- aliases ---------------------------------------------------------------------------
def set_alias(store: OpStore, req: m.SetAliasRequest, call: Call) -> m.AliasInfo:
    expected = req.expected if "expected" in req.model_fields_set else UNSET
    entry = store.set_alias(req.op_name, req.alias, req.version, expected=expected,
                            idempotency_key=call.idempotency_key)
    return m.AliasInfo(op_name=entry.op_name, alias=entry.alias, version=str(entry.version),
                       seq=entry.seq, registered_at=entry.registered_at.isoformat())


def get_alias(store: OpStore, req: m.GetAliasRequest, call: Call) -> m.AliasTarget:
    record = store.get_alias(req.op_name, req.alias)
    return m.AliasTarget(op_name=req.op_name, alias=req.alias, version=m.VersionInfo.of(record))


def list_aliases(store: OpStore, req: m.OpRequest, call: Call) -> m.AliasesResponse:
    return m.AliasesResponse(op_name=req.op_name, aliases=store.list_aliases(req.op_name))


ROUTES: tuple[Route, ...] = (
    Route("get_all_versions_of_op", m.GetAllVersionsOfOpRequest, m.AllVersionsResponse,
          get_all_versions_of_op, "Every registered version string of an op (null: none).",
          nullable=True, tag="chariots"),
    Route("get_validated_links", m.GetValidatedLinksRequest, m.ValidatedLinksResponse,
          get_validated_links,
          "Upstream versions validated for a downstream op (null: none).",
          nullable=True, tag="chariots"),
    Route("get_op_bytes_for_version", m.GetOpBytesForVersionRequest, m.OpBytesResponse,
          get_op_bytes_for_version,
          "The newest bytes saved for a version, base64 (digest verified).", tag="chariots"),
    Route("save_op_bytes", m.SaveOpBytesRequest, m.Empty, save_op_bytes,
          "Save an op's bytes for a registered version.", write=True, tag="chariots"),
    Route("register_valid_link", m.RegisterValidLinkRequest, m.Empty, register_valid_link,
          "Register an upstream version (and the link to its downstream op, unless null).",
          write=True, tag="chariots"),
    Route("pipeline_exists", m.PipelineExistsRequest, m.PipelineExistsResponse,
          pipeline_exists, "Whether a pipeline is registered.", tag="chariots"),
    Route("register_new_pipeline", m.RegisterNewPipelineRequest, m.Empty,
          register_new_pipeline,
          "Register a pipeline and its last op (which need not have versions yet).",
          write=True, tag="chariots"),
    Route("list_ops", m.ListRequest, m.ListOpsResponse, list_ops, "Every known op name."),
    Route("list_pipelines", m.ListRequest, m.ListPipelinesResponse, list_pipelines,
          "Every registered pipeline name."),
    Route("get_versions", m.OpRequest, m.VersionsResponse, get_versions,
          "An op's versions with their numbers and registration metadata."),
    Route("get_latest_version", m.OpRequest, m.VersionInfo, get_latest_version,
          "An op's latest registered version (404 when it has none)."),
    Route("get_version", m.GetVersionRequest, m.VersionInfo, get_version,
          "The registration record of one version."),
    Route("resolve", ref_routes.ResolveRequest, m.VersionInfo, ref_routes.resolve,
          "The version a reference names: latest, 1.2.0, an alias, a version string or a "
          "unique version id prefix."),
    Route("resolve_pipeline", ref_routes.ResolvePipelineRequest,
          ref_routes.PipelineResolutionResponse, ref_routes.resolve_pipeline,
          "Which version of each op a pipeline would load, or which link is missing."),
    Route("register_version", metadata_routes.RegisterVersionRequest, m.VersionInfo,
          metadata_routes.register_version,
          "Register a version with its immutable metadata (idempotent for the same content).",
          write=True, tag="metadata"),
    Route("get_metadata", metadata_routes.MetadataRequest, metadata_routes.MetadataResponse,
          metadata_routes.get_metadata,
          "A version's registration metadata and the mutable tags of it and its op.",
          tag="metadata"),
    Route("set_tags", metadata_routes.SetTagsRequest, metadata_routes.TagsResponse,
          metadata_routes.set_tags,
          "Change the mutable tags of an op or of a version (the history is kept).",
          write=True, tag="metadata"),
    Route("set_version_status", retire_routes.SetVersionStatusRequest, retire_routes.StatusInfo,
          retire_routes.set_version_status,
          "Deprecate (loads warn) or archive (loads refuse) a version, or make it active; "
          "nothing is deleted.", write=True, tag="retirement"),
    Route("hide_op", retire_routes.HideOpRequest, retire_routes.StatusInfo,
          retire_routes.hide_op,
          "Hide an op from listings (or show it again); it stays readable by name.",
          write=True, tag="retirement"),
    Route("search_versions", search_routes.SearchVersionsRequest,
          search_routes.SearchVersionsResponse, search_routes.search_versions,
          "An op's versions filtered by tag, metric range, registration time or alias; paged.",
          tag="search"),
    Route("search_ops", search_routes.SearchOpsRequest, search_routes.SearchOpsResponse,
          search_routes.search_ops, "Op names by glob pattern and mutable tag; paged.",
          tag="search"),
    Route("set_alias", m.SetAliasRequest, m.AliasInfo, set_alias,
          "Point an alias at a registered version, optionally compare-and-swap.",
          write=True, tag="aliases"),
    Route("get_alias", m.GetAliasRequest, m.AliasTarget, get_alias,
          "The version an alias points at.", tag="aliases"),
    Route("list_aliases", m.OpRequest, m.AliasesResponse, list_aliases,
          "An op's alias names (deleted aliases are left out).", tag="aliases"),
    Route("delete_alias", retire_routes.DeleteAliasRequest, retire_routes.DeletedAlias,
          retire_routes.delete_alias,
          "Delete an alias; its history keeps every position and the deletion.",
          write=True, tag="aliases"),
    Route("presign_upload", m.PresignUploadRequest, m.PresignUploadResponse,
          uploads.presign_upload,
          "A presigned create-only PUT URL for a blob's content address.", tag="transfers"),
    Route("commit_upload", m.CommitUploadRequest, m.CommitUploadResponse,
          uploads.commit_upload,
          "Verify an uploaded blob (size and sha256) and bind it to a version.",
          write=True, tag="transfers"),
    Route("presign_download", m.PresignDownloadRequest, m.PresignDownloadResponse,
          uploads.presign_download,
          "A presigned GET URL for the newest bytes of a version.", tag="transfers"),
    # -- browsing: one route per page of the web UI (/ui/) --------------------------
    Route("browse_ops", bm.BrowseOpsRequest, bm.BrowseOpsResponse, browse.browse_ops,
          "Every op with its latest version, version count and aliases; every pipeline.",
          tag="browse"),
    Route("browse_op", bm.BrowseOpRequest, bm.BrowseOpResponse, browse.browse_op,
          "One page of an op's versions, newest first, with bytes and aliases; alias history.",
          tag="browse"),
    Route("browse_version", bm.BrowseVersionRequest, bm.BrowseVersionResponse,
          browse.browse_version,
          "One version: its record, bytes, aliases, links both ways, the pull command.",
          tag="browse"),
    Route("lineage", bm.LineageRequest, bm.LineageResponse, browse.lineage,
          "The graph of validated links: whole, around an op, or reached by a pipeline.",
          tag="browse"),
    Route("browse_pipeline", bm.BrowsePipelineRequest, bm.BrowsePipelineResponse,
          browse.browse_pipeline,
          "What resolve would load for a pipeline, or the links that are missing.",
          tag="browse"),
    Route("log", log_routes.LogRequest, log_routes.LogResponse, log_routes.log,
          "The history of writes, newest first: one op's chain, or all merged by time.",
          tag="browse"),
)


def routes_by_path() -> dict[str, Route]:
    return {route.path: route for route in ROUTES}
