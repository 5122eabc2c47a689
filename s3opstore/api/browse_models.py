"""The request and response models of the browse routes (api/browse.py), which the
OpenAPI document and the web UI's pages are built from.

Requests are strict and forbid unknown fields (bad input is a 400 naming it);
responses are frozen.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from s3opstore.api.models import OpName, PipelineName, VersionField, VersionInfo

__all__ = [
    "MAX_EDGE_VERSIONS",
    "MAX_PER_PAGE",
    "AliasHistoryEntry",
    "AliasState",
    "BrowseOpRequest",
    "BrowseOpResponse",
    "BrowseOpsRequest",
    "BrowseOpsResponse",
    "BrowsePipelineRequest",
    "BrowsePipelineResponse",
    "BrowseVersionRequest",
    "BrowseVersionResponse",
    "BytesInfo",
    "LineageEdge",
    "LineageNode",
    "LineageRequest",
    "LineageResponse",
    "LinkedOp",
    "OpSummary",
    "PipelineSummary",
    "ResolvedOp",
    "UnresolvedLink",
    "VersionRow",
]

MAX_PER_PAGE = 200
MAX_EDGE_VERSIONS = 20  # versions named on one lineage edge; the count says how many in all


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BytesInfo(_Response):
    sha256: str
    size: int
    signed_by: str | None = Field(default=None, description="key id of the signature (D15); "
                                  "null: unsigned")
    trusted: bool | None = Field(default=None, description="signed by a key the server trusts;"
                                 " null: the server is configured with no trusted keys")


class OpSummary(_Response):
    op_name: str
    latest: VersionInfo | None = Field(description="null: the op exists only as a name "
                                                   "(a pipeline's last op, a link's end)")
    version_count: int
    aliases: list[str]


class PipelineSummary(_Response):
    pipeline_name: str
    last_op_name: str
    registered_at: str


class BrowseOpsRequest(_Request):
    pass


class BrowseOpsResponse(_Response):
    ops: list[OpSummary] = Field(description="sorted by name")
    pipelines: list[PipelineSummary] = Field(description="sorted by name")


class BrowseOpRequest(_Request):
    op_name: OpName
    page: int = Field(default=1, ge=1, description="1 is the newest versions")
    per_page: int = Field(default=50, ge=1, le=MAX_PER_PAGE)


class VersionRow(_Response):
    info: VersionInfo
    bytes: BytesInfo | None = Field(description="the newest bytes saved; null: none")
    aliases: list[str] = Field(description="aliases pointing at this version now")


class AliasHistoryEntry(_Response):
    seq: int
    version: str
    number: str | None = Field(description="null: the version is no longer listed")
    registered_at: str


class AliasState(_Response):
    alias: str
    version: str = Field(description="the version the alias points at now")
    number: str | None
    history: list[AliasHistoryEntry] = Field(description="newest first")


class BrowseOpResponse(_Response):
    op_name: str
    total: int = Field(description="versions registered")
    page: int
    per_page: int
    pages: int
    versions: list[VersionRow] = Field(description="newest first")
    aliases: list[AliasState]


class BrowseVersionRequest(_Request):
    op_name: OpName
    version: VersionField


class LinkedOp(_Response):
    op_name: str
    versions: list[VersionInfo] = Field(description="the linked versions of the upstream op")


class BrowseVersionResponse(_Response):
    info: VersionInfo
    bytes: BytesInfo | None
    aliases: list[str]
    downstream: list[str] = Field(description="ops that validated this version as their input")
    upstream: list[LinkedOp] = Field(description="upstream ops validated as this op's input")
    pull_command: str = Field(description="the CLI command that pulls this version's bytes")


class LineageRequest(_Request):
    op_name: OpName | None = Field(default=None, description="only this op and the ops "
                                                             "upstream and downstream of it")
    pipeline_name: PipelineName | None = Field(default=None,
                                               description="only ops this pipeline reaches")


class LineageNode(_Response):
    op_name: str
    latest_number: str | None
    version_count: int


class LineageEdge(_Response):
    upstream: str
    downstream: str
    version_count: int
    numbers: list[str] = Field(description="numbers of the linked upstream versions, up to "
                                           f"{MAX_EDGE_VERSIONS}, oldest first")


class LineageResponse(_Response):
    nodes: list[LineageNode]
    edges: list[LineageEdge]


class BrowsePipelineRequest(_Request):
    pipeline_name: PipelineName


class ResolvedOp(_Response):
    op_name: str
    version: str
    number: str
    is_latest: bool
    downstream: list[str]


class UnresolvedLink(_Response):
    upstream: str
    downstream: str | None
    reason: str


class BrowsePipelineResponse(_Response):
    pipeline_name: str
    last_op_name: str
    ok: bool
    ops: list[ResolvedOp]
    missing: list[UnresolvedLink]
