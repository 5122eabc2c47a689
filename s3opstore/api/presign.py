"""Presigned S3 URLs for blobs too large for a Lambda payload.

The S3 backend presigns (``S3Store.presign``: SigV4, upload URLs carry a signed
``If-None-Match: *`` so they can only create the blob, never overwrite it);
this module finds that backend under any wrappers. Local and memory stores
have no URLs to give: InvalidInputError.
"""

from __future__ import annotations

from typing import Any, Literal

from s3opstore.errors import InvalidInputError
from s3opstore.stores.base import ObjectStore

__all__ = ["UPLOAD_HEADERS", "presign", "s3_backend"]

UPLOAD_HEADERS = {"If-None-Match": "*"}


def s3_backend(store: ObjectStore) -> Any:
    """The presigning backend under any wrappers, or InvalidInputError."""
    seen: Any = store
    for _ in range(8):
        if callable(getattr(seen, "presign", None)):
            return seen
        inner = getattr(seen, "inner", None)
        if inner is None:
            break
        seen = inner
    raise InvalidInputError(
        f"presigned URLs need an S3 store; {store.url} is not one (move the bytes through "
        "save_op_bytes / get_op_bytes_for_version instead)")


def presign(store: ObjectStore, key: str, method: Literal["GET", "PUT"], expires: int) -> str:
    """A URL for one GET or create-only PUT of ``key`` (relative to the store prefix)."""
    url = s3_backend(store).presign(key, method, expires)
    assert isinstance(url, str)
    return url
