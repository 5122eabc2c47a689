"""Op bytes: content-addressed blobs plus a per-version log of bindings.

Saving: the SHA-256 is computed first (files and seekable streams are read
twice, unseekable streams are spooled to a temporary file). The blob at
``ops/<op>/blobs/sha256/<hex>`` is reused only when the store *proves* it
holds these bytes (a SHA-256 the store computed or verified, or its MD5 ETag);
otherwise the bytes are uploaded over whatever is there, which is also how a
damaged blob is repaired. Then a binding ``version -> digest`` is appended, and
the blob is looked at once more: a binding of ours whose blob went missing
(a gc that decided before the binding was visible) gets the bytes again.

gc never deletes a blob outright: it copies it to ``ops/<op>/trash/...``
first (see maintenance/gc.py), so a reader whose blob is missing falls back to
the newest trash copy, and the next gc puts the blob back.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from s3opstore.errors import (
    BytesNotFoundError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    ObjectNotFoundError,
    PreconditionFailedError,
    S3OpStoreError,
)
from s3opstore.models.keys import (
    blob_key,
    bytes_key,
    bytes_prefix,
    parse_upload_key,
    trash_prefix,
)
from s3opstore.models.manifests import BytesBinding, VersionRecord, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry import logged
from s3opstore.registry.commit import Done, Put, Snapshot, new_token, same_key
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.registry.versions import require_version
from s3opstore.stores.base import BLOB_PART_SIZE, ObjectInfo

__all__ = [
    "BlobSource",
    "OpBytes",
    "bind_uploaded",
    "load_bytes",
    "load_to",
    "locate",
    "newest_binding",
    "proves_content",
    "save_bytes",
]

_T = TypeVar("_T")
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

    def update(self, chunk: bytes | memoryview) -> None:
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
    _composite: str | None = field(default=None, repr=False)

    def rewind(self) -> BinaryIO:
        """Back to where the caller handed the bytes over (not to 0: defect of old)."""
        self.stream.seek(self.start)
        return self.stream

    def composite(self) -> str:
        """SHA-256 over the parts' SHA-256s, as S3 reports a multipart checksum.

        Computed only when a stored blob offers one to compare with (re-saving
        large identical bytes), which costs a second read instead of an upload.
        """
        if self._composite is None:
            stream, parts = self.rewind(), []
            remaining = self.digests.size
            while remaining > 0:
                part, todo = hashlib.sha256(), min(BLOB_PART_SIZE, remaining)
                while todo > 0:
                    chunk = stream.read(min(_CHUNK, todo))
                    if not chunk:
                        raise IntegrityError("the bytes being saved changed while saving")
                    part.update(chunk)
                    todo -= len(chunk)
                parts.append(part.digest())
                remaining -= min(BLOB_PART_SIZE, remaining)
            self._composite = f"{hashlib.sha256(b''.join(parts)).hexdigest()}-{len(parts)}"
        return self._composite


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
        hashes = _Hashes()
        while chunk := data.read(_CHUNK):
            if not isinstance(chunk, bytes | bytearray):
                raise InvalidInputError("the stream to save must yield bytes")
            hashes.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield _Source(cast(BinaryIO, spool), hashes.result())


def proves_content(info: ObjectInfo | None, sha256: str, size: int, *,
                   md5: str | None = None, composite: Callable[[], str] | None = None,
                   ) -> bool:
    """Whether the store vouches that the object ``info`` holds exactly these bytes.

    Proof is a digest the store computed or verified itself: its SHA-256
    checksum (whole object, or composite over parts when ``composite`` can
    recompute ours), or an MD5 ETag equal to ``md5``. Size alone, or a
    multipart / SSE-KMS ETag, proves nothing: such a blob is written again.
    """
    if info is None or info.size != size:
        return False
    if info.sha256 is not None:
        if "-" not in info.sha256:
            return info.sha256 == sha256
        return composite is not None and info.sha256 == composite()
    etag = (info.etag or "").strip('"')
    return md5 is not None and etag == md5


def _proven(info: ObjectInfo | None, source: _Source) -> bool:
    d = source.digests
    return proves_content(info, d.sha256, d.size, md5=d.md5, composite=source.composite)


def _disproven(info: ObjectInfo | None, source: _Source) -> bool:
    """Missing, or a digest the store vouches for says these are other bytes."""
    if info is None or info.size != source.digests.size:
        return True
    if info.sha256 is not None:
        return not _proven(info, source)
    return False


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
    with _prepared(data) as source:
        sha, size = source.digests.sha256, source.digests.size
        key = blob_key(op, sha)
        ctx.ensure_safe()
        if not _proven(ctx.store.head(key), source):
            ctx.store.upload(key, source.rewind(), size=size)
        _binding, ours = _bind(ctx, record, sha, size, idempotency_key)
        # gc may have decided to delete the blob before our binding was visible (it
        # listed the bindings, then we bound, then it deleted): look once more after
        # binding. A delete after this HEAD saw our binding first (gc re-lists after
        # deleting and puts the blob back; the blob was set aside in the trash).
        if ours and _disproven(ctx.store.head(key), source):
            ctx.store.upload(key, source.rewind(), size=size)
    return OpBytes(op, record.version, sha, size, key)


def _bind(ctx: Context, record: VersionRecord, sha: str, size: int,
          idempotency_key: str | None) -> tuple[BytesBinding, bool]:
    """Append a binding unless an equal one is the newest; True when the binding is ours."""
    op, version = record.op_name, record.version
    token = new_token(idempotency_key, scope=f"bytes\0{op}\0{version.vid}", content=sha)
    identity = ctx.identity

    def reused_key() -> ConflictError:
        return ConflictError(f"idempotency key {idempotency_key!r} was already used to save "
                             f"other bytes for version {version} of op {op!r}")

    def decide(newest: Snapshot[BytesBinding] | None,
               seq: int) -> Done[BytesBinding] | Put[BytesBinding, BytesBinding]:
        if newest is not None:
            if newest.value.token == token:
                return Done(newest.value)
            if idempotency_key is None:
                if newest.value.sha256 == sha:
                    return Done(newest.value)
            else:
                if same_key(newest.value.token, token):
                    raise reused_key()
                earlier = _binding_with_key(ctx, op, version, token)
                if earlier is not None:
                    if earlier.token != token:
                        raise reused_key()
                    return Done(earlier)
                if newest.value.sha256 == sha:
                    return Done(newest.value)
        binding = BytesBinding(
            op_name=op, version=record.version, seq=seq, sha256=sha, size=size,
            token=token, registered_at=utc_now_ms(), registered_host=identity.host,
            registered_pid=identity.pid)
        return Put(binding, binding)

    binding = logged.append(ctx, Subject("bytes.bind", op, version.vid), bytes_prefix(op, version),
                            lambda seq: bytes_key(op, version, seq), BytesBinding, decide)
    return binding, binding.token == token


def bind_uploaded(ctx: Context, op: str, version: Version, sha256: str, size: int,
                  idempotency_key: str | None = None, upload_key: str | None = None) -> OpBytes:
    """Bind bytes a client uploaded through a presigned URL.

    ``upload_key`` is the private staging key that :func:`presign_upload` handed
    out (``ops/<op>/uploads/<token>``). Its content is proven (the SHA-256 the
    store verified on upload, else by streaming it through SHA-256), then it is
    copied to the content address on the condition that it still has the ETag
    that was proven: a URL holder can never write a content address, nor swap
    the bytes between the check and the copy. Without ``upload_key``, the blob
    must already be at its address (``exists: true``) and is proven there.
    Bytes that do not hash to the digest are refused (IntegrityError) and
    nothing is bound or deleted. After binding, the blob is looked at again (gc).
    """
    record = require_version(ctx, op, version)
    key = blob_key(op, sha256)
    where = OpBytes(op, record.version, sha256, size, key)
    if upload_key is not None:
        _place_upload(ctx, where, upload_key)
    else:
        _verify_uploaded(ctx, where, ctx.store.head(key))
    _bind(ctx, record, sha256, size, idempotency_key)
    after = ctx.store.head(key)
    if after is None:
        after = _restore_from_trash(ctx, where)
    if after is None:
        raise IntegrityError(
            f"the blob at {key!r} was removed while it was being bound; PUT it again and "
            "repeat the commit")
    if upload_key is not None:
        with contextlib.suppress(S3OpStoreError):
            ctx.store.delete(upload_key)  # done with; gc removes it otherwise
    return where


def _place_upload(ctx: Context, where: OpBytes, upload_key: str) -> None:
    if parse_upload_key(where.op_name, upload_key) is None:
        raise InvalidInputError(
            f"upload key {upload_key!r} is not an upload of op {where.op_name!r}: pass the key "
            "that presign_upload returned")
    staged = OpBytes(where.op_name, where.version, where.sha256, where.size, upload_key)
    staged_info = ctx.store.head(upload_key)
    if staged_info is None:
        # Gone: most likely a retry of a commit that landed and removed it (its answer was
        # lost). Then the bytes are at their address; prove them there, as without a key.
        try:
            _verify_uploaded(ctx, where, ctx.store.head(where.key))
        except BytesNotFoundError:
            raise BytesNotFoundError(f"no blob was uploaded to {upload_key!r}") from None
        return
    proven = _verify_uploaded(ctx, staged, staged_info, fallback=False)
    if proves_content(ctx.store.head(where.key), where.sha256, where.size):
        return  # the genuine bytes are already in place
    try:
        ctx.store.copy(upload_key, where.key, source_etag=proven.etag)
    except PreconditionFailedError as exc:
        raise IntegrityError(f"the upload at {upload_key!r} changed after it was verified; "
                             "nothing was bound") from exc
    except ObjectNotFoundError as exc:
        raise BytesNotFoundError(f"the upload at {upload_key!r} is gone (older than gc's "
                                 "grace?); upload it again") from exc
    placed = ctx.store.head(where.key)
    if placed is None or placed.sha256 is None or "-" not in placed.sha256:
        # No digest from the copy, or a whole-object one: check it (cheap: one HEAD, or a
        # read of a blob small enough for a single copy). A composite one comes from a
        # multipart copy, every part of which carried the source's ETag precondition.
        _verify_uploaded(ctx, where, placed, fallback=False)


def _verify_uploaded(ctx: Context, where: OpBytes, info: ObjectInfo | None, *,
                     fallback: bool = True) -> ObjectInfo:
    if info is None:
        raise BytesNotFoundError(f"no blob was uploaded to {where.key!r}")
    if info.size != where.size:
        raise IntegrityError(f"the blob at {where.key!r} is {info.size} bytes, not the "
                             f"{where.size} announced; nothing was bound")
    if info.sha256 is not None and "-" not in info.sha256:
        actual = info.sha256  # verified by the store itself on upload
    else:
        sink = _HashingSink(cast(BinaryIO, io.BytesIO()), keep=False)
        _download(ctx, where, sink, fallback=fallback)
        actual = sink.digest.hexdigest()
    if actual != where.sha256:
        raise IntegrityError(
            f"the blob at {where.key!r} has sha256 {actual}, not {where.sha256}: nothing was "
            "bound (the bytes are left for the next save of the genuine ones to overwrite)")
    return info


def _restore_from_trash(ctx: Context, where: OpBytes) -> ObjectInfo | None:
    """Put a blob gc set aside back at its address; None when no copy is left."""
    for info in ctx.store.list(trash_prefix(where.op_name, where.sha256)):
        if info.size != where.size:
            continue
        try:
            ctx.store.copy(info.key, where.key)
        except ObjectNotFoundError:
            continue
        return ctx.store.head(where.key)
    return None


def _binding_with_key(ctx: Context, op: str, version: Version,
                      token: str) -> BytesBinding | None:
    """The binding made with the idempotency key behind ``token`` (any content), if any."""
    for info in ctx.store.list(bytes_prefix(op, version)):
        binding = _read_binding(ctx, info.key)
        if same_key(binding.token, token):
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


def _fetch(ctx: Context, where: OpBytes, fetch: Callable[[str], _T], *,
           fallback: bool = True) -> _T:
    """``fetch(key)`` from the blob, else from the newest copy gc set aside in the trash.

    A blob is missing while a gc that raced a writer puts it back (or until the
    next gc run, if that one died): the trash copy is the same bytes, and every
    read still verifies the digest.
    """
    try:
        return fetch(where.key)
    except ObjectNotFoundError as exc:
        if fallback:
            for info in ctx.store.list(trash_prefix(where.op_name, where.sha256)):
                try:
                    return fetch(info.key)
                except ObjectNotFoundError:
                    continue
        raise _missing_blob(where) from exc


def load_bytes(ctx: Context, op: str, version: Version) -> bytes:
    return read_located(ctx, locate(ctx, op, version))


def read_located(ctx: Context, where: OpBytes) -> bytes:
    """The bytes ``locate`` found (trash fallback included), digest verified."""

    def fetch(key: str) -> bytes:
        if where.size <= SINGLE_GET_LIMIT:
            return ctx.store.get(key).data
        buffer = io.BytesIO()
        ctx.store.download(key, buffer)
        return buffer.getvalue()

    data = _fetch(ctx, where, fetch)
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
                _fetch(ctx, where, lambda key: ctx.store.download(key, fh))
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


def _download(ctx: Context, where: OpBytes, sink: _HashingSink, *,
              fallback: bool = True) -> None:
    _fetch(ctx, where, lambda key: ctx.store.download(key, cast(BinaryIO, sink)),
           fallback=fallback)
