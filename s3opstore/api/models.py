"""Request and response bodies of every route, as pydantic models.

Requests are strict (no type coercion: ``"1"`` is not an int, ``1`` is not a
string) and forbid unknown fields. Names are checked with the registry's own
rule and versions parsed with :class:`Version` during validation, so a bad
request is refused before any store request. The seed's seven routes keep
Chariots' field names exactly; response models describe the shapes (the
OpenAPI document is generated from them).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from s3opstore.errors import InvalidNameError, InvalidVersionError
from s3opstore.models.digests import SHA256_PATTERN
from s3opstore.models.manifests import BytesSignature, VersionRecord
from s3opstore.models.names import MAX_NAME_LENGTH, check_name
from s3opstore.models.version import Version

__all__ = [
    "MAX_BLOB_SIZE",
    "MAX_PRESIGN_EXPIRES",
    "AliasInfo",
    "AliasTarget",
    "AliasesResponse",
    "AllVersionsResponse",
    "CommitUploadRequest",
    "CommitUploadResponse",
    "Empty",
    "ErrorBody",
    "ErrorResponse",
    "GetAliasRequest",
    "GetAllVersionsOfOpRequest",
    "GetOpBytesForVersionRequest",
    "GetValidatedLinksRequest",
    "GetVersionRequest",
    "ListOpsResponse",
    "ListPipelinesResponse",
    "ListRequest",
    "OpBytesResponse",
    "OpRequest",
    "PipelineExistsRequest",
    "PipelineExistsResponse",
    "PresignDownloadRequest",
    "PresignDownloadResponse",
    "PresignUploadRequest",
    "PresignUploadResponse",
    "RegisterNewPipelineRequest",
    "RegisterValidLinkRequest",
    "SaveOpBytesRequest",
    "SetAliasRequest",
    "ValidatedLinksResponse",
    "VersionInfo",
    "VersionsResponse",
]

# Any text without control characters; the server also bounds the encoded length
# (s3opstore.models.names), which a pattern cannot express.
NAME_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]+$"
MAX_BLOB_SIZE = 5 * 1024**4  # S3's largest object
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # SigV4's limit
_VERSION_EXAMPLE = ("da39a3ee5e6b4b0d3255bfef95601890afd80709."
                    "da39a3ee5e6b4b0d3255bfef95601890afd80709."
                    "da39a3ee5e6b4b0d3255bfef95601890afd80709_2019-10-08 12:34:56.123456")


def _name(what: str) -> Any:
    def check(value: str) -> str:
        try:
            return check_name(value, what)
        except InvalidNameError as exc:
            raise PydanticCustomError("invalid_name", "{reason}", {"reason": exc.message}) from None

    return AfterValidator(check)


def _name_schema(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "minLength": 1,
                           "maxLength": MAX_NAME_LENGTH, "description": description})


def _parse_version(value: object) -> Version:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_version", "a version must be a version string")
    try:
        return Version.parse(value)
    except InvalidVersionError as exc:
        raise PydanticCustomError("invalid_version", "{reason}", {"reason": exc.message}) from None


def _parse_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_input", "bytes must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise PydanticCustomError("invalid_input", "bytes is not valid base64") from None


OpName = Annotated[str, _name("op name"), _name_schema("an op name")]
PipelineName = Annotated[str, _name("pipeline name"), _name_schema("a pipeline name")]
AliasName = Annotated[str, _name("alias"), _name_schema("an alias name")]
VersionField = Annotated[Version, PlainValidator(_parse_version), WithJsonSchema(
    {"type": "string", "maxLength": 256, "examples": [_VERSION_EXAMPLE],
     "description": "a Chariots version string: <major>.<minor>.<patch>_<creation time>"})]
Base64Bytes = Annotated[bytes, PlainValidator(_parse_base64), WithJsonSchema(
    {"type": "string", "contentEncoding": "base64", "description": "standard base64"})]
Sha256Hex = Annotated[str, Field(pattern=SHA256_PATTERN, description="lowercase hex SHA-256")]
BlobSize = Annotated[int, Field(ge=0, le=MAX_BLOB_SIZE, description="size in bytes")]
Expires = Annotated[int, Field(ge=1, le=MAX_PRESIGN_EXPIRES,
                               description="URL lifetime in seconds")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- the seed's seven routes ---------------------------------------------------
class GetAllVersionsOfOpRequest(_Request):
    desired_op_name: OpName


class AllVersionsResponse(_Response):
    op_name: str
    all_versions: list[str] = Field(description="version strings exactly as first registered")


class GetValidatedLinksRequest(_Request):
    downstream_op_name: OpName
    upstream_op_name: OpName


class ValidatedLinksResponse(_Response):
    downstream_op_name: str
    upstream_op_name: str
    upstream_versions: list[str]


class GetOpBytesForVersionRequest(_Request):
    desired_op_name: OpName
    version: VersionField


class OpBytesResponse(_Response):
    op_name: str
    op_version: str
    data: str = Field(alias="bytes", description="the op's bytes, standard base64")


class SaveOpBytesRequest(_Request):
    op_name: OpName
    version: VersionField
    data: Base64Bytes = Field(alias="bytes")


class RegisterValidLinkRequest(_Request):
    downstream_op_name: OpName | None = Field(
        description="null: the upstream op ends a pipeline; only it and its version are "
                    "registered")
    upstream_op_name: OpName
    upstream_op_version: VersionField


class PipelineExistsRequest(_Request):
    pipeline_name: PipelineName


class PipelineExistsResponse(_Response):
    exists: bool


class RegisterNewPipelineRequest(_Request):
    pipeline_name: PipelineName
    last_op_name: OpName


class Empty(_Response):
    """``{}``: the answer of every write of the seed."""


# -- listing and versions --------------------------------------------------------
class ListRequest(_Request):
    """No fields; an empty body is accepted too."""


class ListOpsResponse(_Response):
    ops: list[str]


class ListPipelinesResponse(_Response):
    pipelines: list[str]


class OpRequest(_Request):
    op_name: OpName


class GetVersionRequest(_Request):
    op_name: OpName
    version: VersionField


class VersionInfo(_Response):
    op_name: str
    version: str = Field(description="the version string exactly as first registered")
    number: str = Field(description="human number major.minor.patch", examples=["1.2.0"])
    seq: int = Field(description="registration order within the op, from 0")
    registered_at: str = Field(description="ISO 8601 UTC, registering writer's clock")
    registered_host: str
    registered_pid: int

    @classmethod
    def of(cls, record: VersionRecord) -> VersionInfo:
        return cls(op_name=record.op_name, version=str(record.version),
                   number=record.number_text, seq=record.seq,
                   registered_at=record.registered_at.astimezone(UTC).isoformat(),
                   registered_host=record.registered_host, registered_pid=record.registered_pid)


class VersionsResponse(_Response):
    op_name: str
    versions: list[VersionInfo] = Field(description="registration order; [] for an unknown op")


# -- aliases -----------------------------------------------------------------------
class SetAliasRequest(_Request):
    op_name: OpName
    alias: AliasName
    version: VersionField
    expected: VersionField | None = Field(
        default=None,
        description="compare-and-swap: omit to move unconditionally; null: the alias must "
                    "not exist yet; a version string: the alias must point at it now")


class GetAliasRequest(_Request):
    op_name: OpName
    alias: AliasName


class AliasInfo(_Response):
    op_name: str
    alias: str
    version: str
    seq: int = Field(description="position in the alias's history, from 0")
    registered_at: str


class AliasTarget(_Response):
    op_name: str
    alias: str
    version: VersionInfo


class AliasesResponse(_Response):
    op_name: str
    aliases: list[str]


# -- presigned transfers -------------------------------------------------------------
class PresignUploadRequest(_Request):
    op_name: OpName
    version: VersionField
    sha256: Sha256Hex
    size: BlobSize
    expires_in: Expires | None = None


class PresignUploadResponse(_Response):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="headers the PUT must send, exactly")
    upload_key: str = Field(description="the private staging key the PUT goes to (relative "
                                        "to the store prefix); pass it to commit_upload")
    exists: bool = Field(description="the store proves these exact bytes are already stored: "
                                     "skip the upload and commit without upload_key")
    expires_in: int


class CommitUploadRequest(_Request):
    op_name: OpName
    version: VersionField
    sha256: Sha256Hex
    size: BlobSize
    upload_key: str | None = Field(
        default=None, max_length=300,
        description="the upload_key from presign_upload; omit only when it answered exists")
    signature: BytesSignature | None = Field(
        default=None, description="the client's signature of the binding (design.md D15), "
        "made locally with its private key; checked against the server's trusted keys")


class CommitUploadResponse(_Response):
    op_name: str
    op_version: str
    sha256: str
    size: int


class PresignDownloadRequest(_Request):
    op_name: OpName
    version: VersionField
    expires_in: Expires | None = None


class PresignDownloadResponse(_Response):
    url: str
    method: Literal["GET"] = "GET"
    op_name: str
    op_version: str
    sha256: str
    size: int
    expires_in: int


# -- errors ------------------------------------------------------------------------
class ErrorBody(_Response):
    type: str = Field(description="stable error code (s3opstore.errors kinds, plus "
                                  "unknown_route, method_not_allowed, payload_too_large, "
                                  "response_too_large, internal)")
    message: str


class ErrorResponse(_Response):
    error: ErrorBody
