"""How numbers, times and host names are written inside one key segment.

The encodings the layout in :mod:`s3opstore.models.keys` is built from: sequence
numbers inverted so that a newest-first log's head is one ``LIST MaxKeys=1``,
creation times that sort and decode exactly, and host names cut to safe
characters. None of them names a prefix, so they live apart from the layout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH", "MS", "clean_host", "decode_ctime", "encode_ctime", "inverted",
           "parse_inverted"]

_INVERT = 10**20 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
_HOST = re.compile(r"[^A-Za-z0-9.-]")
_CTIME = re.compile(r"^(\d{8}T\d{6})(?:\.(\d{6}))?(Z?)$")


def clean_host(host: str) -> str:
    """Host names as they can appear in a key: safe characters, at most 63."""
    return (_HOST.sub("-", host)[:63].strip(".-")) or "unknown"


def inverted(seq: int) -> str:
    return f"{_INVERT - seq:020d}"


def parse_inverted(name: str) -> int:
    return _INVERT - int(name.split(".", 1)[0])


def encode_ctime(moment: datetime) -> str:
    """Creation time in a key: exact (microseconds, naive or UTC) and sortable.

    Fixed width: the year is always four digits (``strftime("%Y")`` drops the
    zeros below year 1000 on glibc), so every time
    :func:`~s3opstore.models.version.check_creation_time` accepts decodes again.
    """
    text = (f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T"
            f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + ("Z" if moment.tzinfo is not None else "")


def decode_ctime(text: str) -> datetime:
    """The time :func:`encode_ctime` wrote; ValueError for anything else (a listing skips it)."""
    match = _CTIME.match(text)
    if not match:
        raise ValueError(f"bad encoded creation time {text!r}")
    d = match.group(1)  # YYYYMMDDTHHMMSS, sliced: strptime dominated long listings
    moment = datetime(int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]),
                      int(d[13:15]), int(match.group(2) or 0))
    return moment.replace(tzinfo=UTC) if match.group(3) else moment
