"""Chariots' Version, wire-compatible.

A version is three SHA-1 hex digests (major, minor, patch) and a creation
time. Its string form is ``"<major>.<minor>.<patch>_<str(creation_time)>"``,
exactly what Chariots writes (``str(datetime)``: a space separator, the
fraction omitted when the microseconds are zero). Equality and hashing use
the three digests only; ``a > b`` when they differ and ``a`` was created later.

The creation time is kept as given, naive (Chariots' ``utcnow()`` style) or
aware; an aware time is normalised to UTC. Since ``str()`` is a pure function
of the stored fields, a parsed canonical string round-trips byte for byte.

The accepted range is decided here and only here (:func:`check_creation_time`):
every time whose UTC equivalent lies in ``datetime``'s own years 1..9999. The
time is written into listing and link keys, and a time a key could not carry
back would break every later listing of the op; the key encoding
(:mod:`s3opstore.models.keys`) covers that whole range, which its tests check
against this function. An aware time near the edges whose conversion to UTC
leaves the range (``0001-01-01 00:30+01:00``) is refused with
:class:`InvalidVersionError` naming it, never an ``OverflowError``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from s3opstore.errors import InvalidVersionError

__all__ = ["EMPTY_DIGEST", "Version", "check_creation_time"]

EMPTY_DIGEST = hashlib.sha1(b"", usedforsecurity=False).hexdigest()
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_MAX_TEXT = 256


def _digest(part: bytes | str) -> str:
    data = part.encode() if isinstance(part, str) else bytes(part)
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _utc(moment: datetime) -> datetime:
    """An aware UTC copy, for comparisons; naive times are UTC by convention."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_creation_time(moment: object) -> datetime:
    """The creation time a version stores: naive as given, aware converted to UTC.

    Raises InvalidVersionError for a non-datetime or an aware time whose UTC
    equivalent is outside years 1..9999 (it has no ``datetime``, hence no key).
    """
    if not isinstance(moment, datetime):
        raise InvalidVersionError(f"creation_time {moment!r} is not a datetime")
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InvalidVersionError(
            f"creation time {str(moment)!r} is outside the accepted range once converted to "
            f"UTC (0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999): {exc}") from None


class Version:
    __slots__ = ("creation_time", "major", "minor", "patch")

    major: str
    minor: str
    patch: str
    creation_time: datetime

    def __init__(self, major: str = EMPTY_DIGEST, minor: str = EMPTY_DIGEST,
                 patch: str = EMPTY_DIGEST, creation_time: datetime | None = None) -> None:
        for label, value in (("major", major), ("minor", minor), ("patch", patch)):
            if not isinstance(value, str) or not _HEX40.match(value):
                raise InvalidVersionError(
                    f"{label} hash {value!r} is not 40 lowercase hexadecimal characters")
        if creation_time is None:
            creation_time = datetime.now(UTC).replace(tzinfo=None)
        else:
            creation_time = check_creation_time(creation_time)
        object.__setattr__(self, "major", major)
        object.__setattr__(self, "minor", minor)
        object.__setattr__(self, "patch", patch)
        object.__setattr__(self, "creation_time", creation_time)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Version is immutable")

    @classmethod
    def from_parts(cls, major: bytes | str = b"", minor: bytes | str = b"",
                   patch: bytes | str = b"", *, creation_time: datetime | None = None
                   ) -> Version:
        """A version whose hashes are the SHA-1 digests of the given contents."""
        return cls(_digest(major), _digest(minor), _digest(patch), creation_time)

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse the string form; the time part is read leniently (any ISO 8601)."""
        if not isinstance(text, str):
            raise InvalidVersionError(f"version {text!r} is not a string")
        if len(text) > _MAX_TEXT:
            raise InvalidVersionError(f"version string longer than {_MAX_TEXT} characters: "
                                      f"{text[:60]!r}...")
        hashes, sep, time_text = text.partition("_")
        if not sep:
            raise InvalidVersionError(f"version {text!r} has no '_' before its creation time")
        parts = hashes.split(".")
        if len(parts) != 3:
            raise InvalidVersionError(f"version {text!r} does not have three '.'-separated hashes")
        try:
            moment = datetime.fromisoformat(time_text.strip())
        except ValueError:
            raise InvalidVersionError(
                f"version {text!r}: creation time {time_text!r} is not a date and time") from None
        return cls(parts[0], parts[1], parts[2], moment)

    @property
    def hashes(self) -> tuple[str, str, str]:
        return (self.major, self.minor, self.patch)

    @property
    def vid(self) -> str:
        """The identity used in store keys: ``major.minor.patch``."""
        return f"{self.major}.{self.minor}.{self.patch}"

    def __str__(self) -> str:
        return f"{self.vid}_{self.creation_time}"

    def __repr__(self) -> str:
        return f"Version.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.hashes == other.hashes

    def __hash__(self) -> int:
        return hash(self.hashes)

    def __gt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self != other and _utc(self.creation_time) > _utc(other.creation_time)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self != other and _utc(self.creation_time) < _utc(other.creation_time)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Version, (self.major, self.minor, self.patch, self.creation_time))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Version:
            if isinstance(value, Version):
                return value
            if isinstance(value, str):
                return cls.parse(value)
            raise InvalidVersionError(f"version {value!r} is not a version string")

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str))
