"""How the S3 backend reads botocore's failures: the one translation table, and S3's answers.

Split from ``s3.py`` (which keeps the single ``_errors`` block every call sits in)
so the table can be read whole: which codes mean "missing", "failed condition",
"concurrent write", "denied" or "try again", and the checksum S3 returns.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from s3opstore.errors import (
    ConcurrentWriteError,
    ObjectNotFoundError,
    PreconditionFailedError,
    S3OpStoreError,
    StorageAccessError,
    StorageError,
    StorageUnavailableError,
)

__all__ = ["Missing", "batch_delete_error", "error_code", "http_status", "is_missing",
           "missing_key_hint", "stored_sha256", "translate"]

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412"}
_CONFLICT = {"ConditionalRequestConflict", "409", "OperationAborted"}
_THROTTLE = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "503", "500",
             "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed"}
_ACCESS = {"AccessDenied", "403", "NoSuchBucket", "InvalidAccessKeyId",
           "SignatureDoesNotMatch", "AllAccessDisabled", "ExpiredToken"}
_TRANSPORT = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError,
              ConnectTimeoutError)

def _stored_checksum(response: Any, field: str, length: int) -> str | None:
    """S3's checksum ``field`` ("<b64>" or "<b64>-<parts>") as "<hex>" or "<hex>-<parts>"."""
    raw = response.get(field)
    if not isinstance(raw, str) or not raw:
        return None
    encoded, _, parts = raw.partition("-")
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(digest) != length or (parts and not parts.isdigit()):
        return None
    return digest.hex() + (f"-{int(parts)}" if parts else "")


def stored_sha256(response: Any) -> str | None:
    """S3's ``ChecksumSHA256`` as base.ObjectInfo.sha256."""
    return _stored_checksum(response, "ChecksumSHA256", 32)


def stored_crc32(response: Any) -> str | None:
    """S3's ``ChecksumCRC32`` as base.ObjectInfo.crc32."""
    return _stored_checksum(response, "ChecksumCRC32", 4)


# What an absent object (404, NoSuchKey) means to the call that met it (module doc).
Missing = Literal["not_found", "precondition", "absent"]


def is_missing(exc: ClientError | BotoCoreError) -> bool:
    if not isinstance(exc, ClientError):
        return False
    code = error_code(exc)
    return (code in _NOT_FOUND or http_status(exc) == 404) and code != "NoSuchBucket"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


# Codes S3 answers for a plain denial (a HEAD has no body: its code is the status).
_DENIED = {"AccessDenied", "403", "Forbidden"}
_OBJECT_READS = {"GetObject", "HeadObject"}


def missing_key_hint(exc: ClientError, bucket: str, *, write: bool) -> str:
    """Why a read of a key may be refused: S3's 403-for-a-missing-key rule.

    S3 answers 404 for a missing key only to a caller allowed s3:ListBucket on the bucket
    for that GetObject/HeadObject request; otherwise the miss is a 403, which cannot be
    told from a real denial. Name the likely cause instead of leaving it to be guessed.
    """
    code = error_code(exc)
    denied = code in _DENIED or (not code and http_status(exc) == 403)
    if write or not denied or exc.operation_name not in _OBJECT_READS:
        return ""
    return (f". If the key does not exist: S3 answers 403 instead of 404 for a missing key "
            f"to a caller without s3:ListBucket on bucket {bucket!r} (a grant limited by an "
            f"s3:prefix condition does not count); grant s3:ListBucket on the bucket without "
            f"an s3:prefix condition (terraform/README.md, 'Missing keys must read as 404')")



def translate(exc: Exception, key: str, *, bucket: str, prefix: str, may_apply: bool,
          missing: Missing) -> S3OpStoreError:
    """Map one botocore failure to our hierarchy (the single translation table)."""
    if isinstance(exc, ClientError):
        code, status = error_code(exc), http_status(exc)
        if code == "NoSuchBucket":
            return StorageAccessError(f"bucket {bucket!r} does not exist")
        if code in _NOT_FOUND or status == 404:
            # If-Match on a missing key answers 404: for a CAS that is a failed condition.
            return (PreconditionFailedError(key) if missing == "precondition"
                    else ObjectNotFoundError(key))
        if code in _PRECONDITION or status == 412:
            return PreconditionFailedError(key)
        if code in _CONFLICT or status == 409:
            return ConcurrentWriteError(key)
        if code in _ACCESS or status == 403:
            # Not self._full(key): for a LIST, ``key`` is a prefix ("ops/"), which is no
            # valid key, and checking it here would turn the refusal into InvalidKeyError.
            where = f"{prefix}/{key}" if prefix else key
            return StorageAccessError(
                f"S3 refused access to s3://{bucket}/{where}: {code} {exc}"
                + missing_key_hint(exc, bucket, write=may_apply))
        if code in _THROTTLE or status >= 500:
            return StorageUnavailableError(
                f"S3 unavailable for key {key!r}: {code or status}", maybe_applied=may_apply)
        return StorageError(f"S3 error for key {key!r}: {code or status}: {exc}")
    if isinstance(exc, _TRANSPORT):
        return StorageUnavailableError(
            f"S3 unreachable for key {key!r}: {type(exc).__name__}",
            maybe_applied=may_apply)
    return StorageError(f"S3 client error for key {key!r}: {exc}")


def batch_delete_error(errors: Sequence[Mapping[str, object]], keys: int, *,
                       bucket: str, prefix: str) -> S3OpStoreError:
    """The failure of a DeleteObjects whose answer lists keys it did not delete.

    S3 answers 200 and reports each key it failed apart; the first one is named, as the
    caller named it (without the store's ``prefix``, like every other error). A
    denial is StorageAccessError; anything else may be transient, and the others of
    the request may be gone (StorageUnavailableError, maybe applied).
    """
    first = errors[0]
    code = str(first.get("Code", ""))
    key = str(first.get("Key", ""))
    key = key.removeprefix(f"{prefix}/") if prefix else key
    message = (f"S3 did not delete {len(errors)} of {keys} keys in bucket {bucket!r}, "
               f"the first {key!r}: {code} {first.get('Message', '')}".rstrip())
    if code in _ACCESS:
        return StorageAccessError(message)
    return StorageUnavailableError(message, maybe_applied=True)
