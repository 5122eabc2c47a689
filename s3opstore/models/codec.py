"""The one canonical serializer: orjson with sorted keys.

Identical manifests are identical bytes, so content comparisons and ETags
mean something. Parsing failures become :class:`CorruptManifestError` naming
the key, so one damaged object never breaks the others. Decoding reads as a
reader of a possibly newer writer (design.md, D13): unknown optional fields are
ignored, and a must-understand field or a schema version this release does not
know is :class:`UnsupportedFormatError`, not corruption.
"""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from s3opstore.errors import CorruptManifestError, UnsupportedFormatError
from s3opstore.models.manifests import FORMAT_VERSION, READING, UnknownRequiredFields

__all__ = ["decode", "encode"]

M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    return orjson.dumps(model.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def decode(model: type[M], data: bytes, key: str) -> M:
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CorruptManifestError(key, f"not JSON ({exc})") from exc
    try:
        return model.model_validate(raw, context=READING)
    except UnknownRequiredFields as exc:
        raise UnsupportedFormatError(
            f"manifest at key {key!r} needs {exc}, which this release (store format "
            f"{FORMAT_VERSION}) does not understand: a newer s3opstore wrote it; upgrade "
            "s3opstore to read it") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise CorruptManifestError(key, f"{where}: {first['msg']}") from exc
    except ValueError as exc:
        raise CorruptManifestError(key, str(exc)) from exc
