"""The checks every OpStore method runs on its caller's arguments, before any request.

Kept apart from :mod:`s3opstore.registry.opstore` so the OpStore and its catalog
half (:mod:`s3opstore.registry.catalog`) apply one rule, not two copies of it.
"""

from __future__ import annotations

from s3opstore.errors import InvalidInputError, InvalidVersionError
from s3opstore.models.version import Version

__all__ = ["IDEMPOTENCY_MAX", "as_version", "idempotency"]

IDEMPOTENCY_MAX = 200


def as_version(value: Version | str) -> Version:
    if isinstance(value, Version):
        return value
    if isinstance(value, str):
        return Version.parse(value)
    raise InvalidVersionError(f"version {value!r} is neither a Version nor a version string")


def idempotency(idempotency_key: str | None) -> str | None:
    """Keys are hashed as UTF-8 and stored in manifests: lone surrogates and controls are out."""
    if idempotency_key is None:
        return None
    if (not isinstance(idempotency_key, str)
            or not 1 <= len(idempotency_key) <= IDEMPOTENCY_MAX
            or not idempotency_key.isprintable()):
        raise InvalidInputError(
            f"idempotency key {idempotency_key!r} must be a string of 1-{IDEMPOTENCY_MAX} "
            "printable characters")
    try:
        idempotency_key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"idempotency key {idempotency_key!r} is not valid Unicode (a lone surrogate)"
        ) from None
    return idempotency_key
