"""Op, pipeline and alias names, and their reversible encoding into one key segment.

Names are free text to Chariots (a nested pipeline's name, ``"inner pipe"``,
becomes an op name), so any text is a name except what cannot be one: the
empty string, text with control characters (Unicode category Cc) or lone
surrogates (not encodable as UTF-8), and names over :data:`MAX_NAME_LENGTH`
characters or whose encoding is over :data:`MAX_SEGMENT_LENGTH` characters.

A name is stored as ONE key segment, encoded so that the segment is safe on
every backend and distinct names never share a segment:

- ``a-z``, ``0-9``, ``_``, ``-`` and ``.`` stand for themselves, except a
  ``.`` that starts or ends the name (so no segment is ``.``, ``..``, a hidden
  file, or a name Windows would strip the trailing dot from);
- an upper-case letter ``X`` is ``~x``, so a segment never contains an
  upper-case letter and case-insensitive file systems (macOS, Windows) cannot
  merge ``Model`` and ``model``;
- every other character is its UTF-8 bytes, each as ``=`` and two lower-case
  hex digits (``inner pipe`` -> ``inner=20pipe``, ``/`` -> ``=2f``).

Segments are therefore ASCII, so a file system's own Unicode normalization
never touches them. Names are compared code point by code point, as
Chariots' SQL database compares them: the NFC and NFD spellings of ``café``
are two different names with two different segments, never an accidental
merge. Decoding accepts only the canonical encoding, so segment <-> name is
a bijection and a foreign directory is never mistaken for a name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from s3opstore.errors import InvalidNameError

__all__ = ["MAX_NAME_LENGTH", "MAX_SEGMENT_LENGTH", "check_name", "decode_name", "encode_name"]

MAX_NAME_LENGTH = 200
# 250 keeps "<segment>.json" within the 255-byte file-name limit of local file systems, and
# the longest key (a link: two names) at 659 characters below the store prefix.
MAX_SEGMENT_LENGTH = 250
_PLAIN = re.compile(r"^[a-z0-9_-](?:[a-z0-9._-]*[a-z0-9_-])?$")
_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")
_TOKEN = re.compile(r"[a-z0-9_.-]+|~[a-z]|=[0-9a-f]{2}")


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:80] + "...")


@lru_cache(maxsize=4096)
def _encode(name: str) -> str:
    if _PLAIN.match(name):
        return name
    out: list[str] = []
    last = len(name) - 1
    for index, char in enumerate(name):
        if char in _LITERAL and not (char == "." and index in (0, last)):
            out.append(char)
        elif "A" <= char <= "Z":
            out.append("~" + char.lower())
        else:
            out.extend(f"={byte:02x}" for byte in char.encode("utf-8"))
    return "".join(out)


def _problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long, the limit is {MAX_NAME_LENGTH}"
    return _content_problem(name)


@lru_cache(maxsize=4096)  # names are checked on every call and every listed key: keep it cheap
def _content_problem(name: str) -> str | None:
    for char in name:
        category = unicodedata.category(char)
        if category == "Cc":
            return f"it contains the control character U+{ord(char):04X}"
        if category == "Cs":
            return f"it contains the lone surrogate U+{ord(char):04X} (not valid UTF-8)"
    size = len(_encode(name))
    if size > MAX_SEGMENT_LENGTH:
        return (f"its key encoding is {size} characters, the limit is {MAX_SEGMENT_LENGTH} "
                "(an upper-case letter takes 2, a character outside a-z 0-9 . _ - takes 3 "
                "per UTF-8 byte)")
    return None


def check_name(name: object, what: str = "op name") -> str:
    """``name`` itself when it can be stored; InvalidNameError naming it otherwise."""
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} {name!r} is not a string")
    problem = _problem(name)
    if problem is not None:
        raise InvalidNameError(f"invalid {what} {_shown(name)}: {problem}")
    return name


def encode_name(name: str, what: str = "op name") -> str:
    """The key segment of a name (checked first: a bad name never becomes a key)."""
    return _encode(check_name(name, what))


def decode_name(segment: str) -> str:
    """The name a segment encodes; ValueError unless it is a name's canonical encoding."""
    tokens = _TOKEN.findall(segment)
    if "".join(tokens) != segment:
        raise ValueError(f"{segment!r} is not an encoded name")
    raw = bytearray()
    for token in tokens:
        if token[0] == "~":
            raw += token[1].upper().encode()
        elif token[0] == "=":
            raw.append(int(token[1:], 16))
        else:
            raw += token.encode()
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{segment!r} does not encode UTF-8 text") from None
    if _problem(name) is not None or _encode(name) != segment:
        raise ValueError(f"{segment!r} is not the canonical encoding of a name")
    return name
