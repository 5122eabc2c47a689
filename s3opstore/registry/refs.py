"""Version references: the ways people name a version of an op.

A *ref* is one of, tried in this order:

1. ``latest`` -- the op's newest version (1 GET);
2. a version number ``1.2.0`` -- the number the tables print (numbers are
   unique within an op: each registration's number is greater than the last);
3. a full version string ``<major>.<minor>.<patch>_<creation time>``;
4. an alias name (``production``);
5. a unique prefix of the version id: ``<major prefix>[.<minor prefix>[.<patch
   prefix>]][_<creation time>]``, which includes the short form the CLI tables
   print (8 hex characters of each hash and the time). At least 4 hex
   characters; a prefix that matches several versions is refused, naming them.

``split_op_ref`` reads ``op@ref`` (split at the last ``@``). Aliases named like
a version number or ``latest`` are refused when set (:func:`check_alias_name`),
so those rules never shadow one another.
"""

from __future__ import annotations

import re

from s3opstore.errors import (
    AliasNotFoundError,
    InvalidInputError,
    InvalidNameError,
    InvalidVersionError,
    OpNotFoundError,
    VersionNotFoundError,
)
from s3opstore.models.manifests import VersionRecord
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from s3opstore.registry import aliases as _aliases
from s3opstore.registry import versions as _versions
from s3opstore.registry.context import Context

__all__ = ["LATEST", "alias_candidate", "check_alias_name", "resolve_ref", "split_op_ref"]

LATEST = "latest"
MIN_PREFIX = 4
_NUMBER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_PREFIX = re.compile(r"^([0-9a-f]+)(?:\.([0-9a-f]+))?(?:\.([0-9a-f]+))?(?:_(.+))?$")


def split_op_ref(text: str, default: str | None = None) -> tuple[str, str | None]:
    """``"pca@production"`` -> ``("pca", "production")``; no ``@`` -> ``(text, default)``."""
    if not isinstance(text, str):
        raise InvalidInputError(f"op reference {text!r} is not a string")
    op, sep, ref = text.rpartition("@")
    if not sep:
        return text, default
    if not op or not ref:
        raise InvalidInputError(f"op reference {text!r} must be OP@REF with both parts non-empty")
    return op, ref


def check_alias_name(alias: str) -> str:
    """Refuse alias names a ref would read as something else."""
    if alias == LATEST:
        raise InvalidInputError("alias name 'latest' is reserved for the newest version")
    if _NUMBER.match(alias):
        raise InvalidInputError(
            f"alias name {alias!r} looks like a version number; choose another name")
    return alias


def alias_candidate(ref: str) -> str | None:
    """``ref`` when the rules would look it up as an alias (rule 4), else None; no request."""
    if ref == LATEST or _NUMBER.match(ref):
        return None
    try:
        Version.parse(ref)
    except InvalidVersionError:
        pass
    else:
        return None
    try:
        return check_name(ref, "alias")
    except InvalidNameError:
        return None


def _latest(ctx: Context, op: str) -> VersionRecord:
    record = _versions.latest_version(ctx, op)
    if record is None:
        raise OpNotFoundError(f"op {op!r} has no registered versions")
    return record


def _all(ctx: Context, op: str) -> list[VersionRecord]:
    records = _versions.get_versions(ctx, op)
    if not records:
        raise OpNotFoundError(f"op {op!r} has no registered versions")
    return records


def _by_number(ctx: Context, op: str, ref: str) -> VersionRecord:
    records = _all(ctx, op)
    for record in records:
        if record.number_text == ref:
            return record
    raise VersionNotFoundError(
        f"op {op!r} has no version numbered {ref} (numbers {records[0].number_text} "
        f"to {records[-1].number_text})")


def _prefix_matches(record: VersionRecord, parts: tuple[str | None, ...],
                    moment: str | None) -> bool:
    hashes = record.version.hashes
    if any(part is not None and not full.startswith(part)
           for part, full in zip(parts, hashes, strict=True)):
        return False
    return moment is None or moment == str(record.version.creation_time)


def _by_prefix(ctx: Context, op: str, ref: str) -> VersionRecord | None:
    """The one version the prefix names; None when ``ref`` is not prefix-shaped."""
    match = _PREFIX.match(ref)
    if match is None or len(match.group(1)) < MIN_PREFIX:
        return None
    parts = (match.group(1), match.group(2), match.group(3))
    found = [r for r in _all(ctx, op) if _prefix_matches(r, parts, match.group(4))]
    if not found:
        raise VersionNotFoundError(f"op {op!r} has no alias or version id starting with {ref!r}")
    if len(found) > 1:
        numbers = ", ".join(r.number_text for r in found[:10])
        raise InvalidInputError(
            f"version id prefix {ref!r} of op {op!r} is ambiguous: it matches versions "
            f"{numbers}; give more characters")
    return found[0]


def resolve_ref(ctx: Context, op: str, ref: Version | str) -> VersionRecord:
    """The record ``ref`` names (rules in the module docstring)."""
    if isinstance(ref, Version):
        return _versions.require_version(ctx, op, ref)
    if not isinstance(ref, str) or not ref:
        raise InvalidInputError(f"version reference {ref!r} is not a non-empty string")
    if ref == LATEST:
        return _latest(ctx, op)
    if _NUMBER.match(ref):
        return _by_number(ctx, op, ref)
    try:
        version = Version.parse(ref)
    except InvalidVersionError:
        pass
    else:
        return _versions.require_version(ctx, op, version)
    try:
        alias = check_name(ref, "alias")
    except InvalidNameError:
        if _PREFIX.match(ref) is None:  # neither an alias nor an id prefix: refuse, no request
            raise InvalidInputError(
                f"{ref!r} is neither 'latest', a version number, a version string, an alias "
                f"nor a version id prefix of op {op!r}") from None
        alias = None
    try:
        if alias is None:
            raise AliasNotFoundError(f"op {op!r} has no alias {ref!r}")
        return _aliases.get_alias_record(ctx, op, alias)
    except (AliasNotFoundError, InvalidNameError) as exc:
        found = _by_prefix(ctx, op, ref)
        if found is not None:
            return found
        if _versions.latest_version(ctx, op) is None:
            raise OpNotFoundError(f"op {op!r} has no registered versions") from None
        if isinstance(exc, InvalidNameError):
            raise InvalidInputError(
                f"{ref!r} is neither 'latest', a version number, a version string, an alias "
                f"nor a version id prefix of op {op!r}") from None
        raise
