"""Presigned transfers: blobs that bypass the API's 6 MB payload limit.

Upload: ``presign_upload`` answers a create-only PUT URL for a fresh private
staging key ``ops/<op>/uploads/<token>`` (the version must be registered),
which signs the blob's SHA-256 checksum, so S3 itself refuses other bytes.
A presigned URL never points at a content address: those are written only by
the registry, after it proved the bytes. The client PUTs, then calls
``commit_upload`` with the ``upload_key``; the commit proves the staged
content (S3's stored checksum, else by streaming it through SHA-256), copies
it into place on the condition that it is unchanged, and appends the binding.
Bytes that do not hash to the digest are refused with 422; nothing is bound
or deleted (gc removes abandoned uploads after its grace period). ``exists``
is true when the store proves the genuine bytes are already in place: the
client may then skip the PUT and commit without ``upload_key``. A client that
signs (design.md, D15) sends its ``signature`` with the commit; a server with
trusted keys refuses (403 ``untrusted_bytes``, nothing bound) a missing or
untrusted one, and serves only trusted bytes (``presign_download`` too).

Download: ``presign_download`` answers a GET URL plus the digest and size
the client should verify.
"""

from __future__ import annotations

from s3opstore.api import models as m
from s3opstore.api.presign import presign, s3_backend, upload_headers
from s3opstore.api.types import Call, HttpError
from s3opstore.errors import BytesNotFoundError, IntegrityError
from s3opstore.registry.opstore import OpStore

__all__ = ["commit_upload", "presign_download", "presign_upload"]


def presign_upload(store: OpStore, req: m.PresignUploadRequest,
                   call: Call) -> m.PresignUploadResponse:
    s3_backend(store.store)  # refuse non-S3 stores before any request
    expires = req.expires_in or call.config.presign_expires
    ticket = store.prepare_upload(req.op_name, req.version, req.sha256, req.size)
    return m.PresignUploadResponse(
        url=presign(store.store, ticket.upload_key, "PUT", expires, sha256=req.sha256),
        headers=upload_headers(req.sha256), upload_key=ticket.upload_key,
        exists=ticket.exists, expires_in=expires)


def commit_upload(store: OpStore, req: m.CommitUploadRequest,
                  call: Call) -> m.CommitUploadResponse:
    s3_backend(store.store)
    try:
        bound = store.bind_uploaded_blob(req.op_name, req.version, req.sha256, req.size,
                                         upload_key=req.upload_key,
                                         idempotency_key=call.idempotency_key,
                                         signature=req.signature)
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
