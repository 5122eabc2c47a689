"""Building a Version without Chariots: hash the three parts from what you have.

A Chariots version is three SHA-1 digests: *major* (what changes the op's
interface or meaning: its hyper-parameters, its code), *minor* (a re-fit on
new data: the learned state) and *patch* (anything else that changes bytes).
:func:`build_version` hashes each part from any of:

- ``bytes`` (as is) or ``str`` (UTF-8), as :meth:`Version.from_parts` does;
- a path (``pathlib.Path`` or any ``os.PathLike``): a file's contents, streamed,
  or a directory's files in sorted relative-path order, each as its path and
  its contents (so renaming a file changes the digest);
- ``None``, lists, dicts, numbers and booleans: their canonical JSON (sorted
  keys, no spaces), so ``{"lr": 0.1, "depth": 3}`` always hashes the same.

Anything else is refused with :class:`InvalidInputError` naming its type: a
digest of ``repr()`` or a pickle would not be stable across processes.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from s3opstore.errors import InvalidInputError
from s3opstore.models.version import Version

__all__ = ["Part", "build_version", "part_digest"]

Part = bytes | str | os.PathLike[str] | dict[str, Any] | list[Any] | int | float | bool | None
_CHUNK = 1024 * 1024


def _file_into(digest: Any, path: Path) -> None:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)


def part_digest(part: Part, what: str = "part") -> str:
    """The SHA-1 hex digest of one part (rules in the module docstring)."""
    digest = hashlib.sha1(usedforsecurity=False)
    if isinstance(part, bytes | bytearray | memoryview):
        digest.update(bytes(part))
    elif isinstance(part, str):
        digest.update(part.encode("utf-8", "surrogatepass"))
    elif isinstance(part, os.PathLike):
        path = Path(part)
        if path.is_file():
            _file_into(digest, path)
        elif path.is_dir():
            for item in sorted(p for p in path.rglob("*") if p.is_file()):
                name = item.relative_to(path).as_posix().encode()
                digest.update(len(name).to_bytes(8, "big") + name)
                digest.update(item.stat().st_size.to_bytes(8, "big"))
                _file_into(digest, item)
        else:
            raise InvalidInputError(f"{what} {str(path)!r} is neither a file nor a directory")
    elif part is None or isinstance(part, dict | list | int | float | bool):
        try:
            digest.update(orjson.dumps(part, option=orjson.OPT_SORT_KEYS))
        except TypeError as exc:
            raise InvalidInputError(f"{what} is not JSON-serializable: {exc}") from None
    else:
        raise InvalidInputError(
            f"{what} of type {type(part).__name__} cannot be hashed stably: give bytes, text, "
            "a path, or JSON-like data")
    return digest.hexdigest()


def build_version(major: Part = b"", minor: Part = b"", patch: Part = b"", *,
                  creation_time: datetime | None = None) -> Version:
    """A Version whose hashes are the digests of the three parts (default: empty)."""
    return Version(part_digest(major, "major"), part_digest(minor, "minor"),
                   part_digest(patch, "patch"), creation_time)
