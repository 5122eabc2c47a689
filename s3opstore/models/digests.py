"""The one SHA-256 rule: 64 lowercase hex characters, nothing around them.

Manifests (``Sha256``), the HTTP API's models (``SHA256_PATTERN``), the registry's
argument checks (:func:`check_sha256`) and the key parsers of gc and the cache
(:func:`is_sha256`) all use this module, so the rule cannot drift.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from s3opstore.errors import InvalidInputError

__all__ = ["SHA256_PATTERN", "Sha256", "check_sha256", "is_sha256"]

SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(r"[0-9a-f]{64}")  # used with fullmatch: "$" would accept a final "\n"

Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def check_sha256(value: object, what: str = "sha256") -> str:
    """``value`` if it is a hex SHA-256, else InvalidInputError naming it."""
    if not is_sha256(value):
        raise InvalidInputError(f"{what} {value!r} is not 64 lowercase hex characters")
    assert isinstance(value, str)
    return value
