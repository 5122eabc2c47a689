"""The JSON documents s3opstore keeps in the bucket, and the public records.

Every stored manifest is a frozen pydantic model with ``extra="forbid"``, a
``kind`` and a ``schema_version``; ``codec.encode`` makes it canonical bytes.
Every manifest written by a conditional write carries the writer's ``token``,
which is how a writer recognises its own write when a response was lost.
Models do no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from s3opstore.models.version import Version

__all__ = [
    "SCHEMA_VERSION",
    "AliasManifest",
    "BytesBinding",
    "LinkManifest",
    "OpHead",
    "OpMarker",
    "PipelineManifest",
    "StatusManifest",
    "TagsManifest",
    "VersionMetadata",
    "VersionNumber",
    "VersionRecord",
]

SCHEMA_VERSION: Literal[1] = 1

VersionNumber = tuple[int, int, int]
Token = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def utc_now_ms() -> datetime:
    """Registration timestamps: aware UTC, millisecond precision (what keys encode)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Registered(_Frozen):
    """Who registered the thing, when (writer's clock; informational only)."""

    registered_at: datetime
    registered_host: str
    registered_pid: int

    @field_validator("registered_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class VersionRecord(_Registered):
    """One registered version of one op, as readers see it.

    ``seq`` is the registration order within the op (0-based, dense);
    ``number`` is the human ``(major, minor, patch)`` number.
    """

    op_name: str
    version: Version
    number: VersionNumber
    seq: int = Field(ge=0)

    @property
    def number_text(self) -> str:
        return "{}.{}.{}".format(*self.number)


class _Manifest(_Frozen):
    schema_version: Literal[1] = SCHEMA_VERSION


class VersionManifest(_Manifest):
    """Body of a version's listing entry (its key encodes the same record)."""

    kind: Literal["version"] = "version"
    record: VersionRecord
    token: Token


class OpHead(_Manifest):
    """The op's single mutable object: its latest version and small state.

    Updated only by compare-and-swap. Invariant: every committed version other
    than ``latest`` has a listing entry, because a writer writes the current
    latest's entry *before* its CAS moves the head past it.
    ``idempotency`` lists recent (idempotency-key digest, vid) pairs, oldest
    first and bounded, so a reused key is recognised.
    """

    kind: Literal["op-head"] = "op-head"
    op_name: str
    latest: VersionRecord
    token: Token
    idempotency: list[tuple[str, str]] = Field(default_factory=list)


class OpMarker(_Manifest):
    """Marks an op known before any of its versions (a pipeline's last op)."""

    kind: Literal["op"] = "op"
    op_name: str
    registered_at: datetime
    token: Token


class LinkManifest(_Registered, _Manifest):
    kind: Literal["link"] = "link"
    downstream_op_name: str
    upstream_op_name: str
    upstream_version: Version
    token: Token


class PipelineManifest(_Registered, _Manifest):
    kind: Literal["pipeline"] = "pipeline"
    pipeline_name: str
    last_op_name: str
    token: Token


class BytesBinding(_Registered, _Manifest):
    """'The bytes of version V of op O are blob sha256:D', seq-th save of V."""

    kind: Literal["bytes"] = "bytes"
    op_name: str
    version: Version
    seq: int = Field(ge=0)
    sha256: Sha256
    size: int = Field(ge=0)
    token: Token


class AliasManifest(_Registered, _Manifest):
    """The seq-th position of alias A of op O: it points at ``version``.

    ``deleted``: this position deletes the alias (``version`` is where it
    pointed); the alias reads as absent until a later position sets it again.
    """

    kind: Literal["alias"] = "alias"
    op_name: str
    alias: str
    seq: int = Field(ge=0)
    version: Version
    token: Token
    idempotency_key: str | None = None
    deleted: bool = False


MetaKey = Annotated[str, Field(min_length=1, max_length=128)]
MetaText = Annotated[str, Field(max_length=1024)]
ParamValue = str | int | float | bool | None


class VersionMetadata(_Registered, _Manifest):
    """What a version was registered with: immutable, written before the version is.

    ``source`` says where it came from (by convention ``commit``, ``run_url``,
    ``user``). The content fields (all but who/when/token) are what two
    registrations of the same version must agree on.
    """

    kind: Literal["version-metadata"] = "version-metadata"
    op_name: str
    version: Version
    description: str | None = Field(default=None, max_length=4096)
    tags: dict[MetaKey, MetaText] = Field(default_factory=dict)
    params: dict[MetaKey, ParamValue] = Field(default_factory=dict)
    metrics: dict[MetaKey, float] = Field(default_factory=dict)
    source: dict[MetaKey, MetaText] = Field(default_factory=dict)
    token: Token


class TagsManifest(_Registered, _Manifest):
    """The seq-th state of the mutable tags of an op (``version`` None) or of a version."""

    kind: Literal["tags"] = "tags"
    op_name: str
    version: Version | None = None
    seq: int = Field(ge=0)
    tags: dict[MetaKey, MetaText]
    token: Token


class StatusManifest(_Registered, _Manifest):
    """The seq-th status of an op (``version`` None: active or hidden) or of a version
    (active, deprecated or archived). Nothing is deleted: a status only changes how the
    thing is listed and loaded."""

    kind: Literal["status"] = "status"
    op_name: str
    version: Version | None = None
    seq: int = Field(ge=0)
    state: Literal["active", "deprecated", "archived", "hidden"]
    reason: str | None = Field(default=None, max_length=1024)
    token: Token
