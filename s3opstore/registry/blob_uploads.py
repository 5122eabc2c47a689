"""Binding bytes a client uploaded itself, through a presigned URL (see api/uploads.py).

The client's bytes are never trusted: they are proven (the store's own
SHA-256, else by streaming them through SHA-256) before they are copied to
their content address and bound.
"""

from __future__ import annotations

import contextlib
import io
from typing import BinaryIO, cast

from s3opstore.errors import (
    BytesNotFoundError,
    IntegrityError,
    InvalidInputError,
    ObjectNotFoundError,
    PreconditionFailedError,
    S3OpStoreError,
)
from s3opstore.models.keys import blob_key, parse_upload_key, trash_prefix
from s3opstore.models.manifests import BytesSignature
from s3opstore.models.version import Version
from s3opstore.registry.blob_bindings import OpBytes, _bind, signer_of
from s3opstore.registry.blob_reads import _download, _HashingSink
from s3opstore.registry.blob_source import proves_content
from s3opstore.registry.context import Context
from s3opstore.registry.versions import require_version
from s3opstore.stores.base import ObjectInfo

__all__ = ["bind_uploaded"]


def bind_uploaded(ctx: Context, op: str, version: Version, sha256: str, size: int,
                  idempotency_key: str | None = None, upload_key: str | None = None,
                  signature: BytesSignature | None = None) -> OpBytes:
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

    ``signature``: the client's own (D15), made with ``trust.sign_binding``
    before the commit. A context with trusted keys refuses, once the version is
    found and before anything is copied or bound, a signature none of them made
    or one made for other fields, and a missing one unless the context signs
    itself (UntrustedBytesError).
    """
    record = require_version(ctx, op, version)
    key = blob_key(op, sha256)
    signer = signature.key_id if signature is not None else None
    if ctx.verifier is not None and (signature is not None or ctx.signer is None):
        signer = ctx.verifier.check(op, record.version, sha256, size, signature, record)
    where = OpBytes(op, record.version, sha256, size, key, signer)
    if upload_key is not None:
        _place_upload(ctx, where, upload_key)
    else:
        _verify_uploaded(ctx, where, ctx.store.head(key))
    binding, _ours = _bind(ctx, record, sha256, size, idempotency_key, signature)
    where = OpBytes(op, record.version, sha256, size, key, signer_of(binding))
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
