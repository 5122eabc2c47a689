"""Presigned uploads, registry side: what a client needs before it PUTs.

The HTTP API's ``presign_upload`` asks here, not the store: whether the
version exists, whether the store already proves these exact bytes at the
op's content address (then the client skips the PUT), and a fresh private
staging key for the PUT. Proof is what ``blobs.proves_content`` accepts (a
digest the store computed or verified), never size alone. The commit side,
which proves the staged object and copies it into place, is
``OpStore.bind_uploaded_blob``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from s3opstore.errors import InvalidInputError
from s3opstore.models.digests import check_sha256
from s3opstore.models.keys import blob_key, upload_key
from s3opstore.models.version import Version
from s3opstore.registry.blobs import proves_content
from s3opstore.registry.context import Context
from s3opstore.registry.versions import require_version

__all__ = ["UploadTicket", "new_upload_key", "prepare_upload"]


@dataclass(frozen=True)
class UploadTicket:
    """Where to PUT the bytes, and whether the PUT can be skipped."""

    upload_key: str  #: the private staging key (``ops/<op>/uploads/<token>``)
    exists: bool  #: the store proves these exact bytes are already at their address


def new_upload_key(op: str) -> str:
    """A fresh private staging key for one presigned upload of ``op``'s bytes."""
    return upload_key(op, uuid.uuid4().hex)


def prepare_upload(ctx: Context, op: str, version: Version, sha256: str,
                   size: int) -> UploadTicket:
    """The ticket for one upload; VersionNotFoundError (nothing written) for unknown versions."""
    check_sha256(sha256)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInputError(f"size {size!r} is not a non-negative integer")
    require_version(ctx, op, version)
    exists = proves_content(ctx.store.head(blob_key(op, sha256)), sha256, size)
    return UploadTicket(upload_key=new_upload_key(op), exists=exists)
