"""Loading op bytes: locate the newest binding, fetch the blob, verify its digest.

LIST the newest binding, GET it, fetch the blob and verify its digest; a
mismatch is an :class:`IntegrityError`. A context with trusted keys refuses a
binding that is not signed by one of them (:class:`UntrustedBytesError`)
before any blob request. A blob gc set aside is read from its
newest trash copy. Memory stays bounded for the file and stream forms: blobs
travel through the store's streaming primitives and are hashed as they pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

from s3opstore.errors import BytesNotFoundError, IntegrityError, ObjectNotFoundError
from s3opstore.models.keys import blob_key, trash_prefix
from s3opstore.models.version import Version
from s3opstore.registry.blob_bindings import OpBytes, newest_binding, signer_of
from s3opstore.registry.blob_source import _hash_stream
from s3opstore.registry.context import Context
from s3opstore.registry.versions import require_version

__all__ = ["SINGLE_GET_LIMIT", "load_bytes", "load_to", "locate", "read_located"]

_T = TypeVar("_T")
# Blobs up to this size are fetched with one GET into memory by load_bytes.
SINGLE_GET_LIMIT = 16 * 1024 * 1024


def locate(ctx: Context, op: str, version: Version, *, verify: bool = True) -> OpBytes:
    """The newest binding's blob; checked against the trusted keys unless ``verify`` is off
    (only for showing who signed, never before handing bytes out)."""
    binding = newest_binding(ctx, op, version)
    if binding is None:
        require_version(ctx, op, version)  # raises OpNotFound / VersionNotFound
        raise BytesNotFoundError(f"no bytes were saved for version {version} of op {op!r}")
    # The one check every load path passes (D15): refused before a byte is fetched.
    signer = (ctx.verifier.check_binding(binding) if ctx.verifier is not None and verify
              else signer_of(binding))
    return OpBytes(op, binding.version, binding.sha256, binding.size,
                   blob_key(op, binding.sha256), signer, binding.signature)


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
