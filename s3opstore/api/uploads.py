"""Presigned transfers: blobs that bypass the API's 6 MB payload limit.

Upload: ``presign_upload`` answers a PUT URL for the blob's content address
``ops/<op>/blobs/sha256/<hex>`` (the version must be registered) that signs
the blob's SHA-256 checksum, so S3 itself refuses other bytes; the client
PUTs the bytes straight to S3, then calls ``commit_upload``, which proves the
content (S3's stored checksum, else by streaming the blob through SHA-256)
and only then appends the byte binding. Bytes that do not hash to their
address are refused with 422 and left alone: nothing is bound, and deleting
them could delete genuine bytes a concurrent save just wrote. ``exists`` is
true only when the store proves the genuine bytes are already there.

Download: ``presign_download`` answers a GET URL plus the digest and size
the client should verify.
"""

from __future__ import annotations

from s3opstore.api import models as m
from s3opstore.api.presign import presign, s3_backend, upload_headers
from s3opstore.api.types import Call, HttpError
from s3opstore.errors import BytesNotFoundError, IntegrityError
from s3opstore.models.keys import blob_key
from s3opstore.registry.blobs import proves_content
from s3opstore.registry.opstore import OpStore

__all__ = ["commit_upload", "presign_download", "presign_upload"]


def presign_upload(store: OpStore, req: m.PresignUploadRequest,
                   call: Call) -> m.PresignUploadResponse:
    s3_backend(store.store)  # refuse non-S3 stores before any request
    expires = req.expires_in or call.config.presign_expires
    store.get_version(req.op_name, req.version)  # 404 for unknown op or version
    key = blob_key(req.op_name, req.sha256)
    info = store.store.head(key)
    exists = proves_content(info, req.sha256, req.size)
    # Unproven bytes at the address (damaged, or planted where the store does not enforce
    # signed headers) must be replaceable by the genuine upload; the signed checksum keeps
    # any other body out, so dropping If-None-Match then risks nothing.
    create_only = info is None or exists
    return m.PresignUploadResponse(
        url=presign(store.store, key, "PUT", expires, sha256=req.sha256,
                    create_only=create_only),
        headers=upload_headers(req.sha256, create_only=create_only), key=key,
        exists=exists, expires_in=expires)


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
