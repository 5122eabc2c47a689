"""Version metadata (immutable) and mutable tags (a create-only log).

Registration metadata -- description, tags, params, metrics, source -- is one
create-only object ``ops/<op>/meta/<vid>.json`` written *before* the version
is registered, so a registered version's metadata never changes and is there
from the moment the version is visible. Registering the same version again
with the same content is a no-op; with different content it is refused with
:class:`AlreadyExistsError` and nothing is written. A writer that dies between
the two writes leaves metadata for an unregistered version: a retry with the
same content completes the registration.

Mutable tags (of an op, or of a version) are kept like aliases: each change
appends the whole new tag set as the next position of a newest-first log
(``tags/<op>/op/`` or ``tags/<op>/v/<vid>/``), so the history is kept and
concurrent changes are serialised by the create-only write of the next
position. Reading the current tags is one LIST (MaxKeys=1) and one GET.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from s3opstore.errors import AlreadyExistsError, InvalidInputError, OpNotFoundError
from s3opstore.models.keys import metadata_key, tags_key, tags_prefix
from s3opstore.models.manifests import (
    MetaKey,
    MetaText,
    ParamValue,
    TagsManifest,
    VersionMetadata,
    VersionRecord,
    utc_now_ms,
)
from s3opstore.models.version import Version
from s3opstore.registry import logged
from s3opstore.registry import versions as _versions
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.registry.pipelines import op_exists

__all__ = ["Metadata", "get_metadata", "get_tags", "register_with_metadata", "set_tags",
           "tag_history"]

_CONTENT = ("description", "tags", "params", "metrics", "source")


class Metadata(BaseModel):
    """What a caller gives at registration (validated; unknown fields refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    description: str | None = Field(default=None, max_length=4096)
    tags: dict[MetaKey, MetaText] = Field(default_factory=dict)
    params: dict[MetaKey, ParamValue] = Field(default_factory=dict)
    metrics: dict[MetaKey, float] = Field(default_factory=dict)
    source: dict[MetaKey, MetaText] = Field(default_factory=dict)

    @field_validator("metrics", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for key, number in value.items():
                if isinstance(number, bool) or not isinstance(number, int | float):
                    raise ValueError(f"metric {key!r} is {number!r}, not a number")
                if not math.isfinite(number):
                    raise ValueError(f"metric {key!r} is {number!r}, not a finite number")
            return {key: float(number) for key, number in value.items()}
        return value

    @classmethod
    def of(cls, value: Metadata | Mapping[str, Any]) -> Metadata:
        if isinstance(value, Metadata):
            return value
        if not isinstance(value, Mapping):
            raise InvalidInputError(f"metadata {value!r} is not a mapping")
        try:
            return cls.model_validate(dict(value))
        except ValidationError as exc:
            raise InvalidInputError(f"invalid metadata: {_first(exc)}") from None

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in _CONTENT)


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _content(value: BaseModel) -> dict[str, Any]:
    return {name: getattr(value, name) for name in _CONTENT}


def register_with_metadata(ctx: Context, op: str, version: Version, metadata: Metadata,
                           idempotency_key: str | None) -> VersionRecord:
    existing = get_metadata(ctx, op, version)
    if existing is None and _versions.latest_version(ctx, op) is not None and \
            _versions.find_version(ctx, op, version) is not None:
        raise AlreadyExistsError(
            f"version {version} of op {op!r} is already registered without metadata; metadata "
            "is given at registration only (use mutable tags for what comes later)")
    identity = ctx.identity
    manifest = VersionMetadata(
        op_name=op, version=version, **_content(metadata),
        token=new_token(idempotency_key, scope=f"meta\0{op}\0{version.vid}"),
        registered_at=utc_now_ms(), registered_host=identity.host, registered_pid=identity.pid)
    stored, _created = logged.create(ctx, Subject("metadata.register", op, version.vid),
                                     metadata_key(op, version), manifest)
    if _content(stored) != _content(manifest):
        raise AlreadyExistsError(
            f"version {version} of op {op!r} was registered with other metadata; metadata is "
            "immutable (use mutable tags for what changes)")
    return _versions.register_version(ctx, op, version, idempotency_key)


def get_metadata(ctx: Context, op: str, version: Version) -> VersionMetadata | None:
    snapshot = ctx.committer.read(metadata_key(op, version), VersionMetadata)
    return None if snapshot is None else snapshot.value


def _newest(ctx: Context, op: str, version: Version | None) -> TagsManifest | None:
    snapshot = ctx.committer.newest(tags_prefix(op, version), TagsManifest)
    return None if snapshot is None else snapshot.value


def get_tags(ctx: Context, op: str, version: Version | None) -> dict[str, str]:
    newest = _newest(ctx, op, version)
    return {} if newest is None else dict(newest.tags)


def tag_history(ctx: Context, op: str, version: Version | None) -> list[TagsManifest]:
    """Every state the tags took, oldest first."""
    return ctx.committer.history(tags_prefix(op, version), TagsManifest)


def check_tags(tags: Mapping[str, str], unset: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    try:
        checked = Metadata.model_validate({"tags": dict(tags)}).tags
    except ValidationError as exc:
        raise InvalidInputError(f"invalid tags: {_first(exc)}") from None
    removed = list(unset)
    for key in removed:
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"tag name {key!r} to unset is not a non-empty string")
        if key in checked:
            raise InvalidInputError(f"tag {key!r} is both set and unset")
    return checked, removed


def set_tags(ctx: Context, op: str, version: Version | None, tags: Mapping[str, str],
             unset: Iterable[str] = (), idempotency_key: str | None = None) -> TagsManifest:
    """Set ``tags`` and remove ``unset`` (a version must be registered first)."""
    checked, removed = check_tags(tags, unset)
    if version is not None:
        version = _versions.require_version(ctx, op, version).version
    elif not op_exists(ctx, op):
        raise OpNotFoundError(f"op {op!r} is not known to the store: tags need an op")
    token = new_token(idempotency_key, scope=f"tags\0{op}\0{version.vid if version else ''}")
    identity = ctx.identity

    def decide(newest: Snapshot[TagsManifest] | None,
               seq: int) -> Done[TagsManifest] | Put[TagsManifest, TagsManifest]:
        current = dict(newest.value.tags) if newest is not None else {}
        wanted = {k: v for k, v in {**current, **checked}.items() if k not in removed}
        if newest is not None and (newest.value.token == token or wanted == current):
            return Done(newest.value)
        entry = TagsManifest(op_name=op, version=version, seq=seq, tags=wanted, token=token,
                             registered_at=utc_now_ms(), registered_host=identity.host,
                             registered_pid=identity.pid)
        return Put(entry, entry)

    return logged.append(ctx, Subject("tags.set", op, version.vid if version else None),
                         tags_prefix(op, version), lambda seq: tags_key(op, version, seq),
                         TagsManifest, decide)


