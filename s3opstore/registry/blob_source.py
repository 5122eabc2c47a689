"""The bytes being saved: any accepted source, rewound and hashed, and what proves a blob.

``_prepared`` turns bytes, a path or a binary stream into a :class:`_Source`:
a readable positioned where the caller handed it over, with its SHA-256 (and
MD5 up to the single-PUT size). Files and seekable streams are read twice
(hash, then upload); unseekable streams are spooled to a temporary file.
``proves_content`` is the one rule for when a stored object vouches for bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from s3opstore.errors import IntegrityError, InvalidInputError
from s3opstore.stores.base import BLOB_PART_SIZE, ObjectInfo

__all__ = ["MD5_LIMIT", "BlobSource", "proves_content"]

BlobSource = bytes | bytearray | memoryview | BinaryIO | str | os.PathLike[str]
_CHUNK = 1024 * 1024
_SPOOL = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Digests:
    sha256: str
    md5: str | None  # for a stored blob's ETag check; None past MD5_LIMIT
    size: int


# Only blobs uploaded in one PUT have an MD5 ETag; MD5 is the slowest hash here (about half
# SHA-256's speed), so it is computed only up to the single-PUT size.
MD5_LIMIT = 16 * 1024 * 1024


class _Hashes:
    def __init__(self, md5_limit: int = MD5_LIMIT) -> None:
        self.sha256 = hashlib.sha256()
        self.md5: Any = hashlib.md5(usedforsecurity=False) if md5_limit > 0 else None
        self.md5_limit = md5_limit
        self.size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)
        if self.md5 is not None:
            self.md5 = self.md5 if self.size <= self.md5_limit else None
        if self.md5 is not None:
            self.md5.update(chunk)

    def result(self) -> _Digests:
        md5 = self.md5.hexdigest() if self.md5 is not None else None
        return _Digests(self.sha256.hexdigest(), md5, self.size)


def _hash_stream(stream: BinaryIO, *, md5_limit: int = MD5_LIMIT) -> _Digests:
    hashes = _Hashes(md5_limit)
    if isinstance(stream, io.BufferedReader | io.FileIO | io.BytesIO):
        # Into one reused buffer: a fresh 1 MiB bytes per read is an mmap, page faults and
        # a munmap each time, which a 1 GiB save would pay 1024 times.
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while read := stream.readinto(buffer):
            hashes.update(view[:read])
        return hashes.result()
    while chunk := stream.read(_CHUNK):
        hashes.update(chunk)
    return hashes.result()


def _md5_limit_for(stream: BinaryIO, start: int) -> int:
    """MD5_LIMIT, or 0 when the stream is known to hold more than MD5_LIMIT bytes.

    The MD5 only proves a blob uploaded in one PUT, so for a larger source it
    would be computed over its first MD5_LIMIT bytes and thrown away.
    """
    try:
        end = stream.seek(0, os.SEEK_END)
        stream.seek(start)
    except (OSError, ValueError):
        return MD5_LIMIT
    return 0 if end - start > MD5_LIMIT else MD5_LIMIT


@dataclass
class _Source:
    """The bytes being saved: a readable positioned at ``start``, and their digests."""

    stream: BinaryIO
    digests: _Digests
    start: int = 0
    _composites: dict[str, str] = field(default_factory=dict, repr=False)

    def rewind(self) -> BinaryIO:
        """Back to where the caller handed the bytes over (not to 0: defect of old)."""
        self.stream.seek(self.start)
        return self.stream

    def composite(self, algorithm: Literal["sha256", "crc32"]) -> str:
        """The checksum S3 reports for these bytes uploaded in :data:`BLOB_PART_SIZE`
        parts: ``"<hex>-<parts>"``, the SHA-256 (or CRC32) over the parts' digests.

        Computed only when a stored blob offers one to compare with (re-saving
        large identical bytes), which costs a second read instead of an upload.
        """
        if algorithm not in self._composites:
            parts = b"".join(self._part_digests(algorithm))
            count = -(-self.digests.size // BLOB_PART_SIZE)
            whole = (_crc32(zlib.crc32(parts)) if algorithm == "crc32"
                     else hashlib.sha256(parts).hexdigest())
            self._composites[algorithm] = f"{whole}-{count}"
        return self._composites[algorithm]

    def _part_digests(self, algorithm: str) -> Iterator[bytes]:
        stream, remaining = self.rewind(), self.digests.size
        while remaining > 0:
            sha, crc, todo = hashlib.sha256(), 0, min(BLOB_PART_SIZE, remaining)
            remaining -= todo
            while todo > 0:
                chunk = stream.read(min(_CHUNK, todo))
                if not chunk:
                    raise IntegrityError("the bytes being saved changed while saving")
                if algorithm == "crc32":
                    crc = zlib.crc32(chunk, crc)
                else:
                    sha.update(chunk)
                todo -= len(chunk)
            yield bytes.fromhex(_crc32(crc)) if algorithm == "crc32" else sha.digest()


def _crc32(value: int) -> str:
    """A CRC32 as S3 states it: four big-endian bytes (here in hex)."""
    return value.to_bytes(4, "big").hex()


@contextlib.contextmanager
def _prepared(data: BlobSource) -> Iterator[_Source]:
    """Yield a rewound, hashed :class:`_Source` for any accepted source."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        yield _Source(io.BytesIO(raw), _Digests(
            hashlib.sha256(raw).hexdigest(),
            hashlib.md5(raw, usedforsecurity=False).hexdigest(), len(raw)))
        return
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise InvalidInputError(f"no file at {str(path)!r} to save")
        with open(path, "rb") as fh:
            digests = _hash_stream(fh, md5_limit=_md5_limit_for(fh, 0))
            fh.seek(0)
            yield _Source(fh, digests)
        return
    if not hasattr(data, "read"):
        raise InvalidInputError(
            f"cannot save {type(data).__name__}: pass bytes, a binary file object or a path")
    seekable = getattr(data, "seekable", lambda: False)()
    if seekable:
        start = data.tell()
        digests = _hash_stream(data, md5_limit=_md5_limit_for(data, start))
        data.seek(start)
        yield _Source(data, digests, start)
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        # No MD5 while spooling: the stream's size is unknown until its end, and past
        # MD5_LIMIT the MD5 of its first 16 MiB would be thrown away. Up to the limit,
        # the spool is still in memory (_SPOOL), so hashing it afterwards is cheap.
        hashes = _Hashes(md5_limit=0)
        while chunk := _data(data.read(_CHUNK)):
            hashes.update(chunk)
            spool.write(chunk)
        digests = hashes.result()
        if digests.size <= MD5_LIMIT:
            spool.seek(0)
            md5 = hashlib.md5(spool.read(), usedforsecurity=False).hexdigest()
            digests = _Digests(digests.sha256, md5, digests.size)
        spool.seek(0)
        yield _Source(cast(BinaryIO, spool), digests)


def _data(chunk: object) -> bytes | bytearray:
    """A chunk read from a stream being saved. A stream that is not a blocking binary one
    is refused rather than saved cut short: ``None`` (a non-blocking stream with
    nothing ready) would otherwise read as its end."""
    if chunk is None:
        raise InvalidInputError(
            "the stream to save is non-blocking and had no bytes ready; pass a blocking "
            "stream")
    if not isinstance(chunk, bytes | bytearray):
        raise InvalidInputError("the stream to save must yield bytes")
    return chunk


def proves_content(info: ObjectInfo | None, sha256: str, size: int, *,
                   md5: str | None = None,
                   composite: Callable[[Literal["sha256", "crc32"]], str] | None = None,
                   ) -> bool:
    """Whether the store vouches that the object ``info`` holds exactly these bytes.

    Proof is a digest the store computed or verified itself: its SHA-256
    checksum (whole object, or composite over parts when ``composite`` can
    recompute ours), its composite CRC32 over parts (likewise recomputed from
    our bytes: see design.md, D11, for why a CRC suffices there), or an MD5 ETag
    equal to ``md5``. Size alone, or a multipart / SSE-KMS ETag, proves nothing:
    such a blob is written again.
    """
    if info is None or info.size != size:
        return False
    if info.sha256 is not None:
        if "-" not in info.sha256:
            return info.sha256 == sha256
        return composite is not None and info.sha256 == composite("sha256")
    if info.crc32 is not None and "-" in info.crc32:
        return composite is not None and info.crc32 == composite("crc32")
    etag = (info.etag or "").strip('"')
    return md5 is not None and etag == md5


def _proven(info: ObjectInfo | None, source: _Source) -> bool:
    d = source.digests
    return proves_content(info, d.sha256, d.size, md5=d.md5, composite=source.composite)


def _disproven(info: ObjectInfo | None, source: _Source, *, sent: bool = False) -> bool:
    """Missing, or a digest the store vouches for says these are other bytes.

    ``sent``: this call uploaded the bytes moments ago. A composite (multipart)
    checksum is then not recomputed: that is a second read and hash of every
    byte just sent (about a tenth of a save at 64 MiB), and the store verified
    each part against the checksum computed from these bytes as they were sent.
    The look after binding is for a blob gc removed, which the size check sees.
    """
    if info is None or info.size != source.digests.size:
        return True
    composite = "-" in (info.sha256 or info.crc32 or "")
    if (info.sha256 is not None or composite) and not (sent and composite):
        return not _proven(info, source)
    return False
