"""The object-store seam: the few primitives the registry needs, nothing more.

Invariants every backend keeps (the conformance suite in
``s3opstore.testing.store_suite`` checks them):

- ``put(mode="create")`` succeeds for exactly one of any number of concurrent
  callers; the others get :class:`PreconditionFailedError`.
- ``put(mode=IfMatch(etag))`` succeeds only while the object's current ETag is
  ``etag``; ETags are opaque and are sent back exactly as returned.
- ``list`` yields keys in ascending (byte) order and never yields a key
  outside ``prefix``.
- Keys are relative to the backend's root or bucket prefix; a key that could
  escape it is rejected with :class:`InvalidKeyError` before any I/O.
- ``head`` reports ``ObjectInfo.sha256`` (or ``crc32``) only when the store itself
  computed or verified that digest (S3's ``x-amz-checksum-sha256`` or
  ``-crc32``, a hash the local or memory store took while writing); a writer's
  claim is never passed off as one.
  The blob layer reuses an existing blob only on that proof (design.md, D11).

What every method may raise (all subclasses of ``S3OpStoreError``; nothing from a
backend's SDK crosses this seam):

- :class:`InvalidKeyError`: a malformed key, before any I/O;
- :class:`StorageUnavailableError`: throttling, 5xx, timeouts, dropped connections,
  after the backend's own retries. Its ``maybe_applied`` is the "may have applied"
  signal the committer (registry/commit.py) relies on: True only for a write
  (``put``, ``delete``, ``upload``, ``copy``) whose request may have reached the
  store, so the caller must read back before concluding anything; False means
  the write certainly did not happen (and is always False for reads);
- :class:`StorageAccessError` (credentials, missing bucket), :class:`StorageFullError`,
  :class:`UnsafePathError` (local stores), :class:`StorageError` for the rest: nothing
  can be concluded about the request, and the caller does not retry.

Per method below: the errors specific to it.
"""

from __future__ import annotations

import base64
import builtins
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Literal, Protocol, runtime_checkable

from s3opstore.errors import InvalidKeyError

__all__ = [
    "BLOB_PART_SIZE",
    "GetResult",
    "IfMatch",
    "ObjectInfo",
    "ObjectStore",
    "PutMode",
    "check_key",
    "sha256_base64",
]


@dataclass(frozen=True, slots=True)
class IfMatch:
    """Write only if the object's ETag is still ``etag`` (compare-and-swap)."""

    etag: str


PutMode = Literal["create", "overwrite"] | IfMatch


# Stores that split large uploads into parts use parts of this size, so a composite
# checksum ("<hex>-<parts>", SHA-256 or CRC32) can be recomputed by a writer that
# holds the bytes.
BLOB_PART_SIZE = 16 * 1024 * 1024


def sha256_base64(hex_digest: str) -> str:
    """A hex SHA-256 as S3's ``x-amz-checksum-sha256`` value: what an upload URL signs and
    what its client must send, so both come from here."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a HEAD or LIST tells about one object.

    ``sha256``: the hex SHA-256 of the whole content (``"<hex>"``), or of the
    concatenated SHA-256 digests of its :data:`BLOB_PART_SIZE` parts
    (``"<hex>-<parts>"``), as computed or verified by the store; None when the
    store cannot vouch for the content (LIST entries, moto, objects written
    without a checksum). ``crc32``: the same for S3's CRC32 checksum, as 8 hex
    digits (``"<hex>"`` or ``"<hex>-<parts>"``, the CRC32 of the concatenated
    big-endian part CRCs): multipart uploads carry it instead of SHA-256.
    """

    key: str
    size: int
    etag: str | None
    last_modified: datetime | None
    sha256: str | None = None
    crc32: str | None = None


@dataclass(frozen=True, slots=True)
class GetResult:
    data: bytes
    etag: str
    last_modified: datetime | None


@runtime_checkable
class ObjectStore(Protocol):
    """Synchronous primitives over one bucket prefix or directory."""

    @property
    def url(self) -> str:
        """A URL that reopens this store in another process (``s3://``, ``file://``)."""
        ...

    def get(self, key: str) -> GetResult:
        """The whole object, with its ETag exactly as the store returned it.

        Raises ObjectNotFoundError when there is no object at ``key``.
        """
        ...

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        """The object unless its ETag is still ``etag`` (a conditional GET,
        ``If-None-Match``); None means unchanged, and no body was transferred (S3: 304).

        What a warm reader uses to re-check a small mutable object in one request
        without downloading it again. Raises ObjectNotFoundError when absent.
        """
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size, ETag, LastModified and (when the store vouches for it) sha256; None if absent.

        Absence is an answer, not an error: ``head`` never raises ObjectNotFoundError.
        """
        ...

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        """Write ``data``; return the new ETag.

        ``mode="create"``: only if no object is at ``key`` (``If-None-Match: *``);
        ``IfMatch(etag)``: only while the object's ETag is ``etag``. A condition
        that does not hold raises PreconditionFailedError (412), which may also be
        the store's answer to a retry of *our own* landed write: callers read back
        (design.md, D5). ConcurrentWriteError (409) means another conditional write
        to the key was in flight; nothing was applied, retry as is.
        StorageUnavailableError(maybe_applied=True): the write may have landed.
        """
        ...

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        """Remove the object; deleting an absent key is not an error.

        With ``if_match``, only while the object's ETag is still that one; else
        PreconditionFailedError. gc deletes this way, so bytes rewritten since it
        looked (a repair with other content) are never the ones it removes. An absent
        key with ``if_match`` is a no-op as well (there is nothing left to protect).
        StorageUnavailableError(maybe_applied=True): the delete may have happened.
        """
        ...

    def delete_many(self, keys: Sequence[str]) -> None:
        """Remove every object in ``keys`` (absent ones are not an error), unconditionally,
        in as few requests as the backend allows (S3: one DeleteObjects per 1,000 keys).

        For short-lived objects whose writer is done with them and whose every reader
        tolerates absence (a group commit's intents, D18): one request where a
        ``delete`` per key would cost one each. Every key is checked before anything
        is deleted. StorageUnavailableError(maybe_applied=True): some may be gone.
        """
        ...

    def list(
        self, prefix: str, *, start_after: str | None = None, limit: int | None = None
    ) -> Iterator[ObjectInfo]:
        """Objects whose keys start with ``prefix``, in ascending byte order.

        ``start_after`` skips keys up to and including it; ``limit`` caps how many
        are yielded (``limit=1`` on a newest-first log is one request). Entries carry
        no ``sha256``. Lazy: errors surface while iterating, as for any read.
        """
        ...

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        """Immediate 'sub-directory' names below ``prefix`` (which ends with '/')."""
        ...

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        """Stream ``size`` bytes from ``source`` to ``key`` (overwrite semantics).

        Multipart above :data:`BLOB_PART_SIZE` where the backend splits uploads.
        StorageUnavailableError(maybe_applied=True): the object may be there.
        """
        ...

    def download(self, key: str, sink: BinaryIO) -> int:
        """Stream the object into ``sink``; return the number of bytes written.

        Raises ObjectNotFoundError when absent.
        """
        ...

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        """Copy ``source`` to ``target`` inside the store (overwrite semantics).

        Server-side where the backend can (S3 CopyObject / UploadPartCopy), so
        gc can set a blob aside without moving its bytes through the client.
        With ``source_etag``, only while the source still has that ETag, else
        PreconditionFailedError: a presigned upload is copied into place only
        as the bytes that were verified. Raises ObjectNotFoundError when
        ``source`` is absent.
        """
        ...


_SEGMENT = re.compile(r"^[A-Za-z0-9._~=+-]+$")


def check_key(key: str) -> str:
    """Refuse any key that is not a plain relative path of safe segments.

    The registry only builds keys from validated names, so a failure here is a
    bug or an attack; either way nothing may be written outside the prefix.
    """
    if not key or len(key) > 900:
        raise InvalidKeyError(f"invalid store key {key!r}: empty or longer than 900 characters")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise InvalidKeyError(f"invalid store key {key!r}: bad segment {segment!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix may end with '/' or in the middle of a segment."""
    if prefix == "":
        return prefix
    body = prefix[:-1] if prefix.endswith("/") else prefix
    check_key(body)
    return prefix
