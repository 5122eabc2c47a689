"""Presigned S3 URLs for blobs too large for a Lambda payload.

The S3 backend presigns (``S3Store.presign``: SigV4). An upload URL is for a
fresh staging key and signs ``If-None-Match: *`` and the blob's
``x-amz-checksum-sha256``, so S3 refuses any body that is not the announced
bytes and stores the checksum that later proves them. This module finds that
backend under any wrappers (the ``Presigner`` capability). Local and memory
stores have no URLs to give: InvalidInputError.
"""

from __future__ import annotations

from typing import Literal

from s3opstore.errors import InvalidInputError
from s3opstore.stores.base import ObjectStore, sha256_base64
from s3opstore.stores.capabilities import Presigner, presigner

__all__ = ["presign", "s3_backend", "upload_headers"]


def upload_headers(sha256: str) -> dict[str, str]:
    """The headers an upload URL signs, which the client must send exactly."""
    return {"If-None-Match": "*",
            "x-amz-checksum-sha256": sha256_base64(sha256)}


def s3_backend(store: ObjectStore) -> Presigner:
    """The presigning backend under any wrappers, or InvalidInputError."""
    found = presigner(store)
    if found is not None:
        return found
    raise InvalidInputError(
        f"presigned URLs need an S3 store; {store.url} is not one (move the bytes through "
        "save_op_bytes / get_op_bytes_for_version instead)")


def presign(store: ObjectStore, key: str, method: Literal["GET", "PUT"], expires: int, *,
            sha256: str | None = None) -> str:
    """A URL for one GET, or one create-only PUT of ``key`` that only ``sha256``'s bytes pass."""
    return s3_backend(store).presign(key, method, expires, sha256=sha256)
