"""Validation of op, pipeline and alias names.

A name becomes one segment of a store key, so it is checked before anything
is read or written: 1-200 characters of ``[A-Za-z0-9._-]``, not starting with
'.' or '-'. That excludes '/', '..', spaces, control characters and the empty
string, which is what keeps every key inside the configured prefix.
"""

from __future__ import annotations

import re

from s3opstore.errors import InvalidNameError

__all__ = ["MAX_NAME_LENGTH", "check_name"]

MAX_NAME_LENGTH = 200
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")


def check_name(name: object, what: str = "op name") -> str:
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} {name!r} is not a string")
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 80 else name[:80] + "..."
        raise InvalidNameError(
            f"invalid {what} {shown!r}: use 1-{MAX_NAME_LENGTH} characters of "
            "A-Z a-z 0-9 . _ -, not starting with '.' or '-'")
    return name
