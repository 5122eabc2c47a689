"""A Bloom filter of every version id an op registered, carried in its head (D2).

"Is this version new?" must otherwise be answered by a LIST of the version's
entries: a request inside the head's critical section, which every writer of a
busy op pays. The filter answers "certainly not registered" without it: a
Bloom filter has no false negatives, and each compare-and-swap adds its
version to the filter of the head it replaces, so a head's filter holds every
version from ``OpHead.seen_from`` on. A hit proves nothing (a false positive
only costs the LIST the filter saves). 16,384 bits (2 KiB, 2,732 base64
characters in the head) and 6 hashes: false positives stay under 0.1% up to
1,000 versions and about 2% at 2,000, then grow until the LIST is paid as
before (about a third of registrations at 5,000 versions). Models do no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

__all__ = ["SEEN_BITS", "SEEN_HASHES", "maybe_seen", "seen_with"]

SEEN_BITS = 16384
SEEN_HASHES = 6
_BYTES = SEEN_BITS // 8


def _positions(vid: str) -> list[int]:
    digest = hashlib.sha256(b"s3opstore-seen\0" + vid.encode()).digest()
    return [int.from_bytes(digest[4 * i:4 * i + 4], "big") % SEEN_BITS
            for i in range(SEEN_HASHES)]


def _bits(encoded: str) -> bytearray | None:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return bytearray(raw) if len(raw) == _BYTES else None


def maybe_seen(encoded: str, vid: str) -> bool:
    """False only when the filter proves ``vid`` is not in it (a damaged filter proves
    nothing: True)."""
    bits = _bits(encoded)
    return bits is None or all(bits[p >> 3] & (1 << (p & 7)) for p in _positions(vid))


def seen_with(encoded: str | None, vid: str) -> str | None:
    """The filter with ``vid`` added (a new one when ``encoded`` is None); None when
    ``encoded`` is damaged, so the next head starts afresh rather than carry it."""
    bits = bytearray(_BYTES) if encoded is None else _bits(encoded)
    if bits is None:
        return None
    for p in _positions(vid):
        bits[p >> 3] |= 1 << (p & 7)
    return base64.b64encode(bytes(bits)).decode()
