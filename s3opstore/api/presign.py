"""Presigned S3 URLs for blobs too large for a Lambda payload.

Duck-typed over the S3 backend (``.client``, ``.bucket``, ``._full``) so this
module never imports boto3; wrappers with an ``.inner`` store are looked
through. Local and memory stores have no URLs to give: InvalidInputError.

Two details matter on real S3. Upload URLs carry ``If-None-Match: *`` as a
*signed* header, so the URL can only create the blob, never overwrite a
stored one (a 412 means the blob is already there: go on and commit). And
they must be SigV4: botocore presigns with SigV2 by default in the older
regions, which does not sign that header and which buckets created since
2020 reject; :func:`_force_sigv4` registers a signer choice on the client once.
"""

from __future__ import annotations

from typing import Any, Literal

from s3opstore.errors import InvalidInputError
from s3opstore.stores.base import ObjectStore

__all__ = ["UPLOAD_HEADERS", "presign", "s3_backend"]

UPLOAD_HEADERS = {"If-None-Match": "*"}
_SIGV4_MARK = "_s3opstore_presign_sigv4"


def s3_backend(store: ObjectStore) -> Any:
    """The S3 backend under any wrappers, or InvalidInputError."""
    seen: Any = store
    for _ in range(8):
        if all(hasattr(seen, attr) for attr in ("client", "bucket", "_full")):
            return seen
        inner = getattr(seen, "inner", None)
        if inner is None:
            break
        seen = inner
    raise InvalidInputError(
        f"presigned URLs need an S3 store; {store.url} is not one (move the bytes through "
        "save_op_bytes / get_op_bytes_for_version instead)")


def _keep_sigv4(signature_version: str, **_: Any) -> str | None:
    # Answering first stops botocore's "presign S3 with SigV2" default handler.
    if signature_version.endswith("-query") and "v4" in signature_version:
        return signature_version
    return None


def _force_sigv4(client: Any) -> None:
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None or getattr(client, _SIGV4_MARK, False):
        return
    events.register_first("choose-signer.s3", _keep_sigv4, unique_id=_SIGV4_MARK)
    setattr(client, _SIGV4_MARK, True)


def presign(store: ObjectStore, key: str, method: Literal["GET", "PUT"], expires: int) -> str:
    """A URL for one GET or create-only PUT of ``key`` (relative to the store prefix)."""
    backend = s3_backend(store)
    _force_sigv4(backend.client)
    params: dict[str, str] = {"Bucket": backend.bucket, "Key": backend._full(key)}
    if method == "PUT":
        params["IfNoneMatch"] = "*"
    operation = "put_object" if method == "PUT" else "get_object"
    url = backend.client.generate_presigned_url(operation, Params=params, ExpiresIn=expires)
    assert isinstance(url, str)
    return url
