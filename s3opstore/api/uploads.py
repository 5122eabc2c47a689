"""Presigned transfers: blobs that bypass the API's 6 MB payload limit.

Upload: ``presign_upload`` answers a create-only PUT URL for the blob's
content address ``ops/<op>/blobs/sha256/<hex>`` (the version must be
registered); the client PUTs the bytes straight to S3, then calls
``commit_upload``, which checks the stored size, streams the blob through
SHA-256 and only then appends the byte binding. A blob whose content does
not hash to its address is deleted (it would poison later saves of those
bytes) and the commit is refused with 422; nothing is bound.

Download: ``presign_download`` answers a GET URL plus the digest and size
the client should verify.
"""

from __future__ import annotations

from s3opstore.api import models as m
from s3opstore.api.presign import UPLOAD_HEADERS, presign, s3_backend
from s3opstore.api.types import Call, HttpError
from s3opstore.errors import BytesNotFoundError, IntegrityError
from s3opstore.models.keys import blob_key
from s3opstore.registry.opstore import OpStore

__all__ = ["commit_upload", "presign_download", "presign_upload"]


def presign_upload(store: OpStore, req: m.PresignUploadRequest,
                   call: Call) -> m.PresignUploadResponse:
    s3_backend(store.store)  # refuse non-S3 stores before any request
    expires = req.expires_in or call.config.presign_expires
    store.get_version(req.op_name, req.version)  # 404 for unknown op or version
    key = blob_key(req.op_name, req.sha256)
    info = store.store.head(key)
    return m.PresignUploadResponse(
        url=presign(store.store, key, "PUT", expires), headers=dict(UPLOAD_HEADERS), key=key,
        exists=info is not None and info.size == req.size, expires_in=expires)


def commit_upload(store: OpStore, req: m.CommitUploadRequest,
                  call: Call) -> m.CommitUploadResponse:
    s3_backend(store.store)
    try:
        bound = store.bind_uploaded_blob(req.op_name, req.version, req.sha256, req.size,
                                         idempotency_key=call.idempotency_key)
    except BytesNotFoundError as exc:
        raise BytesNotFoundError(f"{exc.message}; PUT it to the URL from presign_upload "
                                 "first") from exc
    except IntegrityError as exc:
        raise HttpError(422, "integrity", exc.message) from exc
    return m.CommitUploadResponse(op_name=req.op_name, op_version=str(bound.version),
                                  sha256=req.sha256, size=req.size)


def presign_download(store: OpStore, req: m.PresignDownloadRequest,
                     call: Call) -> m.PresignDownloadResponse:
    s3_backend(store.store)
    expires = req.expires_in or call.config.presign_expires
    info = store.op_bytes_info(req.op_name, req.version)
    return m.PresignDownloadResponse(
        url=presign(store.store, info.key, "GET", expires), op_name=req.op_name,
        op_version=str(info.version), sha256=info.sha256, size=info.size, expires_in=expires)
