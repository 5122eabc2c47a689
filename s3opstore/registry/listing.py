"""Answers read from LIST pages that one bad key cannot take down.

``get_versions`` and ``get_validated_links`` rebuild their records from key
names. A key that does not parse (written by an older release, planted by
hand, damaged) concerns one record only; failing the whole listing for it
would break every later read of the op until someone deletes it. So readers
skip such a key, log a warning on the ``s3opstore.listing`` logger, and
return it in :attr:`Listing.skipped`, so a caller (the HTTP API's
``S3opstore-Skipped-Keys`` header, fsck's ``bad_key`` problem) can still see
it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Listing", "SkippedKey", "skipped_key"]

log = logging.getLogger("s3opstore.listing")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SkippedKey:
    """A listed key that does not encode a record, and why."""

    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """What a listing read: ``items``, and the keys it had to leave out."""

    items: T
    skipped: tuple[SkippedKey, ...] = ()


def skipped_key(key: str, error: ValueError) -> SkippedKey:
    """Record (and log) that ``key`` was left out of a listing."""
    log.warning("skipped unreadable listing key %r: %s (run fsck)", key, error)
    return SkippedKey(key, str(error))
