"""The JSON documents s3opstore keeps in the bucket, and the public records.

Every stored manifest is a frozen pydantic model with ``extra="forbid"``, a
``kind`` and a ``schema_version``; ``codec.encode`` makes it canonical bytes.
Every manifest written by a conditional write carries the writer's ``token``,
which is how a writer recognises its own write when a response was lost.
Models do no I/O.

How the documents evolve (design.md, D13): ``extra="forbid"`` holds for what
this code builds, but what it *reads* (``codec.decode`` validates with the
:data:`READING` context) may carry fields a newer writer added. Those are
optional by default and ignored, at any nesting level, unless the object
lists them in its ``must_understand`` array: a reader that does not know a
listed field, or meets a ``schema_version`` above its own, refuses the
manifest with :class:`~s3opstore.errors.UnsupportedFormatError`, never with a
corruption error. The store as a whole carries a format version in its root
manifest, :class:`StoreFormat`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from s3opstore.models.digests import Sha256
from s3opstore.models.version import Version

__all__ = [
    "FORMAT_VERSION",
    "MUST_UNDERSTAND",
    "READING",
    "SCHEMA_VERSION",
    "AliasHead",
    "AliasManifest",
    "BytesBinding",
    "BytesSignature",
    "LinkManifest",
    "OpMarker",
    "PipelineManifest",
    "Sequenced",
    "StatusManifest",
    "StoreFormat",
    "TagsManifest",
    "Tokened",
    "UnknownRequiredFields",
    "VersionIntent",
    "VersionMetadata",
    "VersionNumber",
    "VersionRecord",
]

SCHEMA_VERSION: Literal[1] = 1
# The store's layout and manifest format (D13). Bumped only by an incompatible change;
# a store whose root manifest says more is refused by this release. 2: link events have
# chains of their own (D16), which a format-1 release's fsck would call bad keys and whose
# links it would log a second time; a format-1 store is still read, and written as format 1.
FORMAT_VERSION = 2
# The reserved field naming the fields a reader must know to use an object.
MUST_UNDERSTAND = "must_understand"
# Validation context that marks "reading what a writer stored" (codec.decode passes it).
READING: dict[str, bool] = {"s3opstore_reading": True}

VersionNumber = tuple[int, int, int]
Token = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")]


def utc_now_ms() -> datetime:
    """Registration timestamps: aware UTC, millisecond precision (what keys encode)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UnknownRequiredFields(Exception):
    """A stored object needs fields (or a schema version) this reader does not know.

    Deliberately not a ValueError: pydantic lets it through unwrapped, and
    ``codec.decode`` turns it into UnsupportedFormatError naming the key.
    """

    def __init__(self, what: str, fields: list[str]) -> None:
        super().__init__(f"{what}: {', '.join(fields)}")
        self.what = what
        self.fields = fields


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _read_newer_writer(cls, data: Any, info: ValidationInfo) -> Any:
        """When reading: refuse unknown must-understand fields, drop unknown optional ones."""
        if not isinstance(data, dict) or not (info.context or {}).get("s3opstore_reading"):
            return data
        known = cls.model_fields
        listed = data.get(MUST_UNDERSTAND, [])
        if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
            raise ValueError(f"{MUST_UNDERSTAND} must be a list of field names")
        unknown = sorted(name for name in listed if name not in known)
        if unknown:
            raise UnknownRequiredFields(f"{cls.__name__} fields marked {MUST_UNDERSTAND}",
                                        unknown)
        schema = data.get("schema_version")
        if ("schema_version" in known and isinstance(schema, int)
                and not isinstance(schema, bool) and schema > SCHEMA_VERSION):
            raise UnknownRequiredFields(
                f"{cls.__name__} schema_version", [f"{schema} (this release reads "
                                                   f"{SCHEMA_VERSION})"])
        return {name: value for name, value in data.items() if name in known}


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


class Tokened(_Manifest):
    """A manifest written by a conditional write: it carries the writer's token.

    The committer (registry/commit.py) accepts only these: reading the key back
    and finding our token is how a writer recognises its own write after a
    lost response.
    """

    token: Token


class Sequenced(Tokened):
    """A record of a newest-first create-only log: its place in the log is ``seq``.

    ``Committer.append`` (registry/commit.py) accepts only these: the newest
    record's ``seq`` plus one is the key the next record is created under.
    """

    seq: int = Field(ge=0)


class VersionManifest(Tokened):
    """Body of a version's listing entry (its key encodes the same record)."""

    kind: Literal["version"] = "version"
    record: VersionRecord


class VersionIntent(Tokened):
    """A writer that lost the head's race, waiting: "commit ``version`` for me" (D18).

    Everything the writer that commits it needs to write the record and the event
    as the waiting writer's own: who (``actor``, ``host``, ``pid``), and the digest
    of its idempotency key. ``created_at`` (the waiting writer's clock) bounds how
    long others may commit it: an intent older than ``INTENT_TTL`` in
    :mod:`s3opstore.registry.versions` is left to its writer, who may be gone.
    """

    kind: Literal["version-intent"] = "version-intent"
    op_name: str
    version: Version
    actor: str = Field(min_length=1, max_length=256)
    host: str = Field(max_length=255)
    pid: int
    idempotency: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class OpMarker(Tokened):
    """Marks an op known before any of its versions (a pipeline's last op)."""

    kind: Literal["op"] = "op"
    op_name: str
    registered_at: datetime


class LinkManifest(_Registered, Tokened):
    kind: Literal["link"] = "link"
    downstream_op_name: str
    upstream_op_name: str
    upstream_version: Version


class PipelineManifest(_Registered, Tokened):
    kind: Literal["pipeline"] = "pipeline"
    pipeline_name: str
    last_op_name: str


class BytesSignature(_Frozen):
    """A writer's signature over one binding's fields (design.md, D15; s3opstore/trust).

    ``algorithm`` and ``payload_version`` are plain values, not literals: a
    reader meeting one it does not know refuses the bytes as untrusted, it does
    not call the binding corrupt. ``number`` and ``record_sha256`` are what the
    writer knew of the version's registration; they are signed too, so a reader
    that has the record (fsck, the cached loader) can check them.
    """

    algorithm: str = Field(min_length=1, max_length=32)
    payload_version: int = Field(ge=1)
    key_id: str = Field(min_length=1, max_length=128)  # 16 hex digits today; not pinned (D13)
    # A list, not a VersionNumber tuple: the HTTP API validates strictly, and a client's
    # JSON array is no tuple there.
    number: Annotated[list[int], Field(min_length=3, max_length=3)] | None = None
    record_sha256: Sha256 | None = None
    value: str = Field(min_length=1, max_length=512, description="the signature, base64")


class BytesBinding(_Registered, Sequenced):
    """'The bytes of version V of op O are blob sha256:D', seq-th save of V.

    ``signature`` is optional (D13): absent for an unsigned save, and dropped
    by readers that predate it. It is left out of the JSON when absent, so an
    unsigned binding has the same bytes it always had.
    """

    kind: Literal["bytes"] = "bytes"
    op_name: str
    version: Version
    seq: int = Field(ge=0)
    sha256: Sha256
    size: int = Field(ge=0)
    signature: BytesSignature | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_signature(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("signature", 0) is None:
            del data["signature"]
        return data


class AliasManifest(_Registered, Sequenced):
    """The seq-th position of alias A of op O: it points at ``version``.

    ``deleted``: this position deletes the alias (``version`` is where it
    pointed); the alias reads as absent until a later position sets it again.
    """

    kind: Literal["alias"] = "alias"
    op_name: str
    alias: str
    seq: int = Field(ge=0)
    version: Version
    idempotency_key: str | None = None
    deleted: bool = False


class AliasHead(Tokened):
    """The fast path to an alias: a copy of its newest position, moved by compare-and-swap.

    ``position`` is the history record (:class:`AliasManifest`) it mirrors; the
    history stays the audit trail and the head only ever moves to a higher
    ``position.seq``. ``record`` is the registered record the position points
    at (None for a deletion), so one GET answers ``get_alias``. ``token`` is
    fresh per write: no two heads are the same bytes, so an ETag never repeats.
    """

    kind: Literal["alias-head"] = "alias-head"
    position: AliasManifest
    record: VersionRecord | None = None


MetaKey = Annotated[str, Field(min_length=1, max_length=128)]
MetaText = Annotated[str, Field(max_length=1024)]
ParamValue = str | int | float | bool | None


class VersionMetadata(_Registered, Tokened):
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


class TagsManifest(_Registered, Sequenced):
    """The seq-th state of the mutable tags of an op (``version`` None) or of a version."""

    kind: Literal["tags"] = "tags"
    op_name: str
    version: Version | None = None
    seq: int = Field(ge=0)
    tags: dict[MetaKey, MetaText]


class StatusManifest(_Registered, Sequenced):
    """The seq-th status of an op (``version`` None: active or hidden) or of a version
    (active, deprecated or archived). Nothing is deleted: a status only changes how the
    thing is listed and loaded."""

    kind: Literal["status"] = "status"
    op_name: str
    version: Version | None = None
    seq: int = Field(ge=0)
    state: Literal["active", "deprecated", "archived", "hidden"]
    reason: str | None = Field(default=None, max_length=1024)


class StoreFormat(Tokened):
    """The store's root manifest, ``_s3opstore/format.json`` (D13).

    Written create-only by the first write through any s3opstore, and read by
    every process before its first request to the store. A store without one
    was written by a release before D13 and is ``format_version`` 1.
    """

    kind: Literal["store-format"] = "store-format"
    format_version: int = Field(ge=1)
    written_by: str
    created_at: datetime
