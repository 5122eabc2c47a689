"""Op bytes: content-addressed blobs plus a per-version log of bindings.

Saving: the SHA-256 is computed first (files and seekable streams are read
twice, unseekable streams are spooled to a temporary file), the blob is
uploaded to ``ops/<op>/blobs/sha256/<hex>`` unless an identical one is there,
and only then is a binding ``version -> digest`` appended. A reader therefore
never finds a binding whose blob was never uploaded; a writer that dies
before binding leaves only an unreferenced blob, which ``gc`` removes after a
grace period. Saving bytes equal to the newest binding's is a no-op.

Loading: LIST the newest binding, GET it, fetch the blob and verify its
digest; a mismatch is an :class:`IntegrityError`. Memory stays bounded for
the file and stream forms: blobs travel through the store's streaming
primitives (s3transfer on S3) and are hashed as they pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from s3opstore.errors import (
    BytesNotFoundError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    ObjectNotFoundError,
)
from s3opstore.models.keys import blob_key, bytes_key, bytes_prefix
from s3opstore.models.manifests import BytesBinding, VersionRecord, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.versions import require_version
from s3opstore.stores.base import ObjectInfo

__all__ = [
    "BlobSource",
    "OpBytes",
    "bind_uploaded",
    "load_bytes",
    "load_to",
    "locate",
    "newest_binding",
    "save_bytes",
]

BlobSource = bytes | bytearray | memoryview | BinaryIO | str | os.PathLike[str]
_CHUNK = 1024 * 1024
_SPOOL = 16 * 1024 * 1024
# Blobs up to this size are fetched with one GET into memory by load_bytes.
SINGLE_GET_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OpBytes:
    """Where the bytes of one op version live."""

    op_name: str
    version: Version
    sha256: str
    size: int
    key: str


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

    def update(self, chunk: bytes) -> None:
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
    while chunk := stream.read(_CHUNK):
        hashes.update(chunk)
    return hashes.result()


@contextlib.contextmanager
def _prepared(data: BlobSource) -> Iterator[tuple[BinaryIO, _Digests]]:
    """Yield (a rewound readable, its digests) for any accepted source."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        yield io.BytesIO(raw), _Digests(hashlib.sha256(raw).hexdigest(),
                                        hashlib.md5(raw, usedforsecurity=False).hexdigest(),
                                        len(raw))
        return
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise InvalidInputError(f"no file at {str(path)!r} to save")
        with open(path, "rb") as fh:
            digests = _hash_stream(fh)
            fh.seek(0)
            yield fh, digests
        return
    if not hasattr(data, "read"):
        raise InvalidInputError(
            f"cannot save {type(data).__name__}: pass bytes, a binary file object or a path")
    seekable = getattr(data, "seekable", lambda: False)()
    if seekable:
        start = data.tell()
        digests = _hash_stream(data)
        data.seek(start)
        yield data, digests
        return
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        hashes = _Hashes()
        while chunk := data.read(_CHUNK):
            if not isinstance(chunk, bytes | bytearray):
                raise InvalidInputError("the stream to save must yield bytes")
            hashes.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield cast(BinaryIO, spool), hashes.result()


def _read_binding(ctx: Context, key: str) -> BytesBinding:
    snapshot = ctx.committer.read(key, BytesBinding)
    if snapshot is None:  # listed a moment ago; bindings are never deleted
        raise IntegrityError(f"byte binding {key!r} vanished after being listed")
    return snapshot.value


def newest_binding(ctx: Context, op: str, version: Version) -> BytesBinding | None:
    for info in ctx.store.list(bytes_prefix(op, version), limit=1):
        return _read_binding(ctx, info.key)
    return None


def save_bytes(ctx: Context, op: str, version: Version, data: BlobSource,
               idempotency_key: str | None = None) -> OpBytes:
    record = require_version(ctx, op, version)
    with _prepared(data) as (stream, digests):
        sha, size = digests.sha256, digests.size
        key = blob_key(op, sha)
        ctx.ensure_safe()
        reused = _trustworthy(ctx.store.head(key), digests)
        if not reused:
            ctx.store.upload(key, stream, size=size)
        _binding, ours = _bind(ctx, record, sha, size, idempotency_key)
        # A binding of ours that reuses an old blob: a garbage collector may have removed
        # the blob between our HEAD and the binding, so look again and put it back. An
        # existing binding of someone else's already kept the blob referenced.
        if reused and ours and ctx.store.head(key) is None:
            stream.seek(0)
            ctx.store.upload(key, stream, size=size)
    return OpBytes(op, record.version, sha, size, key)


def _trustworthy(existing: ObjectInfo | None, digests: _Digests) -> bool:
    """Whether a blob already at our content address can be reused without uploading.

    The size must match, and so must the ETag where it is a plain MD5 (simple PUTs
    on S3, the local and memory stores): bytes that do not hash to their address
    are overwritten, which is how re-saving repairs a damaged blob. Multipart ETags
    ("<md5>-<parts>") say nothing about the content, and blobs past MD5_LIMIT are
    multipart; those are trusted on size, and every read still verifies the SHA-256.
    """
    if existing is None or existing.size != digests.size:
        return False
    etag = (existing.etag or "").strip('"')
    return not etag or "-" in etag or digests.md5 is None or etag == digests.md5


def _bind(ctx: Context, record: VersionRecord, sha: str, size: int,
          idempotency_key: str | None) -> tuple[BytesBinding, bool]:
    """Append a binding unless an equal one is the newest; True when the binding is ours."""
    op, version = record.op_name, record.version
    token = new_token(idempotency_key, scope=f"bytes\0{op}\0{version.vid}")
    identity = ctx.identity

    def decide(newest: Snapshot[BytesBinding] | None,
               seq: int) -> Done[BytesBinding] | Put[BytesBinding, BytesBinding]:
        if newest is not None:
            if newest.value.token == token:
                if newest.value.sha256 != sha:
                    raise ConflictError(
                        f"idempotency key {idempotency_key!r} was already used to save "
                        f"other bytes for version {version} of op {op!r}")
                return Done(newest.value)
            if idempotency_key is None and newest.value.sha256 == sha:
                return Done(newest.value)
            if idempotency_key is not None:
                earlier = _binding_with_token(ctx, op, version, token)
                if earlier is not None:
                    if earlier.sha256 != sha:
                        raise ConflictError(
                            f"idempotency key {idempotency_key!r} was already used to save "
                            f"other bytes for version {version} of op {op!r}")
                    return Done(earlier)
                if newest.value.sha256 == sha:
                    return Done(newest.value)
        binding = BytesBinding(
            op_name=op, version=record.version, seq=seq, sha256=sha, size=size,
            token=token, registered_at=utc_now_ms(), registered_host=identity.host,
            registered_pid=identity.pid)
        return Put(binding, binding)

    binding = ctx.committer.append(bytes_prefix(op, version),
                                   lambda seq: bytes_key(op, version, seq), BytesBinding, decide)
    return binding, binding.token == token


def bind_uploaded(ctx: Context, op: str, version: Version, sha256: str, size: int,
                  idempotency_key: str | None = None) -> OpBytes:
    """Bind a blob that was uploaded directly to its content address (presigned PUT).

    The blob is re-hashed as it streams past before anything is bound; bytes that
    do not hash to their address are deleted (a later save of the genuine bytes
    must not trust them) and :class:`IntegrityError` is raised.
    """
    record = require_version(ctx, op, version)
    key = blob_key(op, sha256)
    info = ctx.store.head(key)
    if info is None:
        raise BytesNotFoundError(f"no blob was uploaded to {key!r}")
    if info.size != size:
        raise IntegrityError(f"the blob at {key!r} is {info.size} bytes, not the {size} "
                             "announced; nothing was bound")
    sink = _HashingSink(cast(BinaryIO, io.BytesIO()), keep=False)
    where = OpBytes(op, record.version, sha256, size, key)
    _download(ctx, where, sink)
    actual = sink.digest.hexdigest()
    if actual != sha256:
        ctx.store.delete(key)
        raise IntegrityError(f"the blob at {key!r} has sha256 {actual}, not {sha256}: it was "
                             "discarded and nothing was bound")
    _bind(ctx, record, sha256, size, idempotency_key)
    return where


def _binding_with_token(ctx: Context, op: str, version: Version,
                        token: str) -> BytesBinding | None:
    for info in ctx.store.list(bytes_prefix(op, version)):
        binding = _read_binding(ctx, info.key)
        if binding.token == token:
            return binding
    return None


def locate(ctx: Context, op: str, version: Version) -> OpBytes:
    binding = newest_binding(ctx, op, version)
    if binding is None:
        require_version(ctx, op, version)  # raises OpNotFound / VersionNotFound
        raise BytesNotFoundError(f"no bytes were saved for version {version} of op {op!r}")
    return OpBytes(op, binding.version, binding.sha256, binding.size,
                   blob_key(op, binding.sha256))


def _missing_blob(where: OpBytes) -> IntegrityError:
    return IntegrityError(f"blob {where.key!r} for version {where.version} of op "
                          f"{where.op_name!r} is missing")


def _check(where: OpBytes, sha: str, size: int) -> None:
    if sha != where.sha256 or size != where.size:
        raise IntegrityError(
            f"blob {where.key!r} is corrupt: expected sha256 {where.sha256} ({where.size} "
            f"bytes), read sha256 {sha} ({size} bytes)")


def load_bytes(ctx: Context, op: str, version: Version) -> bytes:
    where = locate(ctx, op, version)
    try:
        if where.size <= SINGLE_GET_LIMIT:
            data = ctx.store.get(where.key).data
        else:
            buffer = io.BytesIO()
            ctx.store.download(where.key, buffer)
            data = buffer.getvalue()
    except ObjectNotFoundError as exc:
        raise _missing_blob(where) from exc
    _check(where, hashlib.sha256(data).hexdigest(), len(data))
    return data


class _HashingSink:
    """Writes through to ``sink`` while hashing; has no seek, so writes arrive in order."""

    def __init__(self, sink: BinaryIO, *, keep: bool = True) -> None:
        self._sink = sink
        self._keep = keep
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        if self._keep:
            self._sink.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


def load_to(ctx: Context, op: str, version: Version,
            target: BinaryIO | str | os.PathLike[str]) -> OpBytes:
    """Stream the bytes into a file object or a path, verifying the digest.

    A path is written through a temporary file in the same directory and
    renamed into place only once the digest matched. A file object receives
    the bytes as they arrive; on an IntegrityError its content must be discarded.
    """
    where = locate(ctx, op, version)
    if isinstance(target, str | os.PathLike):
        path = Path(target)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.")
        try:
            # Into the real (seekable) file, parts at their offsets, then hash it: no part
            # is buffered in memory waiting for its turn.
            with os.fdopen(fd, "w+b") as fh:
                try:
                    ctx.store.download(where.key, fh)
                except ObjectNotFoundError as exc:
                    raise _missing_blob(where) from exc
                fh.seek(0)
                digests = _hash_stream(fh, md5_limit=0)
            _check(where, digests.sha256, digests.size)
            os.replace(tmp_name, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        return where
    sink = _HashingSink(target)
    _download(ctx, where, sink)
    _check(where, sink.digest.hexdigest(), sink.size)
    return where


def _download(ctx: Context, where: OpBytes, sink: _HashingSink) -> None:
    try:
        ctx.store.download(where.key, cast(BinaryIO, sink))
    except ObjectNotFoundError as exc:
        raise _missing_blob(where) from exc
