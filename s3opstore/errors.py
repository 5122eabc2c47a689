"""The one exception hierarchy of s3opstore.

Errors are grouped by what a caller does next, not by where they were raised.
Each class carries a stable ``kind`` code (also the HTTP API's ``error.type``)
and an HTTP status, so every face (Python, HTTP, CLI) reports the same thing::

    S3OpStoreError                      kind            status
    ├── InvalidInputError               invalid_input   400   fix the request
    │   ├── InvalidNameError            invalid_name
    │   ├── InvalidVersionError         invalid_version
    │   ├── InvalidKeyError             invalid_key     (a key that would leave the prefix)
    │   └── UnsupportedStoreError       unsupported_store (a store s3opstore cannot run on)
    ├── NotFoundError                   not_found       404   nothing to act on
    │   ├── OpNotFoundError             op_not_found
    │   ├── VersionNotFoundError        version_not_found
    │   ├── BytesNotFoundError          bytes_not_found
    │   ├── PipelineNotFoundError       pipeline_not_found
    │   ├── AliasNotFoundError          alias_not_found
    │   └── ObjectNotFoundError         object_not_found (store layer)
    ├── ConflictError                   conflict        409   re-read and decide again
    │   ├── AlreadyExistsError          already_exists
    │   ├── PreconditionFailedError     precondition_failed (store layer)
    │   └── ConcurrentWriteError        concurrent_write    (store layer, 409 from S3)
    ├── IntegrityError                  integrity       500   stored data is wrong: run fsck
    │   └── CorruptManifestError        corrupt_manifest
    ├── StorageError                    storage         502   the object store misbehaved
    │   ├── StorageUnavailableError     storage_unavailable 503   retry later
    │   ├── StorageAccessError          storage_access      502   credentials / bucket
    │   ├── StorageFullError            storage_full        507   disk or quota full
    │   ├── UnsafePathError             unsafe_path         502   a symlink inside a local store
    │   └── UnsafeStoreError            unsafe_store        502   store ignores conditional writes
    ├── UntrustedBytesError             untrusted_bytes 403   bytes not signed by a trusted key
    ├── OutcomeUnknownError             outcome_unknown 503   a write may or may not have landed
    ├── ConfigurationError              misconfigured   500   fix the deployment's settings
    └── UnsupportedFormatError          unsupported_format 500 upgrade s3opstore (design.md D13)

botocore exceptions never cross the store layer: ``stores/s3.py`` translates
them into these classes with ``raise ... from exc``.

Every ``kind`` a face can report, the classes' and the faces' own
(:data:`FACE_KINDS`: HTTP and CLI conditions that are no exception here), is in
:func:`error_kinds`; ``tests/test_error_kinds.py`` pins it so codes are only
ever added, never renamed or removed.
"""

from __future__ import annotations

__all__ = [
    "AliasNotFoundError",
    "AlreadyExistsError",
    "BytesNotFoundError",
    "ConcurrentWriteError",
    "ConfigurationError",
    "ConflictError",
    "CorruptManifestError",
    "IntegrityError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidNameError",
    "InvalidVersionError",
    "KeyFileError",
    "NotFoundError",
    "ObjectNotFoundError",
    "OpNotFoundError",
    "OutcomeUnknownError",
    "PipelineNotFoundError",
    "PreconditionFailedError",
    "S3OpStoreError",
    "StorageAccessError",
    "StorageError",
    "StorageFullError",
    "StorageUnavailableError",
    "UnsafePathError",
    "UnsafeStoreError",
    "UnsupportedFormatError",
    "UnsupportedStoreError",
    "UntrustedBytesError",
    "VersionNotFoundError",
    "error_kinds",
]

# Codes the faces answer for conditions that never become an exception here.
FACE_KINDS: dict[str, str] = {
    "bad_request": "HTTP server: a request line or headers it cannot parse (400)",
    "cross_origin": "HTTP: a browser request from another origin (403)",
    "forbidden_client": "HTTP server: a client address not allowed (403)",
    "forbidden_host": "HTTP server: a Host header not allowed (403)",
    "headers_too_large": "HTTP server: request headers over the limit (431)",
    "internal": "HTTP/Lambda: an unexpected error; details only in the log (500)",
    "interrupted": "CLI: interrupted by the user (Ctrl-C)",
    "invalid_event": "Lambda: an event that is no HTTP request it understands (400)",
    "method_not_allowed": "HTTP: the route exists, not with that method (405)",
    "not_implemented": "HTTP server: a method the server does not implement (501)",
    "os_error": "CLI: a local file could not be read or written",
    "payload_too_large": "HTTP: request body over the limit (413)",
    "response_too_large": "HTTP: the answer would exceed the adapter's limit (413)",
    "unauthorized": "HTTP: a missing or wrong bearer token (401)",
    "unknown_route": "HTTP: no such route (404)",
    "unsupported_media_type": "HTTP: a body that is not JSON (415)",
}


class S3OpStoreError(Exception):
    """Root of every error this package raises on purpose."""

    kind: str = "error"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(S3OpStoreError, ValueError):
    """The caller's input is malformed; nothing was read or written."""

    kind = "invalid_input"
    status = 400


class InvalidNameError(InvalidInputError):
    kind = "invalid_name"


class InvalidVersionError(InvalidInputError):
    kind = "invalid_version"


class InvalidKeyError(InvalidInputError):
    """A store key that is malformed or would escape the configured prefix."""

    kind = "invalid_key"


class UnsupportedStoreError(InvalidInputError):
    """The store URL names a store whose semantics s3opstore cannot rely on.

    Raised when the store is opened, before any request: for example an S3 directory
    bucket (S3 Express One Zone), whose listings are not in lexicographic order.
    """

    kind = "unsupported_store"


class KeyFileError(InvalidInputError):
    """A signing key or trusted-keys file that cannot be used: missing, not a key, wrong type.

    The message names the file; nothing was read from or written to the store.
    """

    kind = "invalid_key_file"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"key file {path!r}: {problem}")
        self.path = path


class NotFoundError(S3OpStoreError, LookupError):
    kind = "not_found"
    status = 404


class OpNotFoundError(NotFoundError):
    kind = "op_not_found"


class VersionNotFoundError(NotFoundError):
    kind = "version_not_found"


class BytesNotFoundError(NotFoundError):
    """The version is registered but no bytes were ever saved for it."""

    kind = "bytes_not_found"


class PipelineNotFoundError(NotFoundError):
    kind = "pipeline_not_found"


class AliasNotFoundError(NotFoundError):
    kind = "alias_not_found"


class ObjectNotFoundError(NotFoundError):
    """Store layer: no object at that key."""

    kind = "object_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(f"no object at key {key!r}")
        self.key = key


class ConflictError(S3OpStoreError):
    """Concurrent writers kept winning; the operation was not applied."""

    kind = "conflict"
    status = 409


class AlreadyExistsError(ConflictError):
    kind = "already_exists"


class PreconditionFailedError(ConflictError):
    """Store layer: an If-None-Match / If-Match condition did not hold (HTTP 412)."""

    kind = "precondition_failed"

    def __init__(self, key: str) -> None:
        super().__init__(f"precondition failed for key {key!r}")
        self.key = key


class ConcurrentWriteError(ConflictError):
    """Store layer: another conditional write to the key was in flight (HTTP 409).

    The write was not applied and may be retried as is.
    """

    kind = "concurrent_write"

    def __init__(self, key: str) -> None:
        super().__init__(f"a concurrent conditional write to key {key!r} was in flight")
        self.key = key


class IntegrityError(S3OpStoreError):
    """Stored data does not match what its metadata promises."""

    kind = "integrity"
    status = 500


class CorruptManifestError(IntegrityError):
    kind = "corrupt_manifest"

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"manifest at key {key!r} is corrupt: {reason}")
        self.key = key


class StorageError(S3OpStoreError):
    kind = "storage"
    status = 502


class StorageUnavailableError(StorageError):
    """Throttling, a 5xx, a timeout or a dropped connection, after the SDK's own retries.

    ``maybe_applied`` is True when the failed request was a write whose effect
    cannot be ruled out (the request may have reached the store).
    """

    kind = "storage_unavailable"
    status = 503

    def __init__(self, message: str, *, maybe_applied: bool = False) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


class StorageAccessError(StorageError):
    kind = "storage_access"


class StorageFullError(StorageError):
    """The local store's disk or quota is full (ENOSPC, EDQUOT); nothing was made visible.

    507 rather than 503: retrying at once will not help until space is freed.
    """

    kind = "storage_full"
    status = 507


class UnsafePathError(StorageError):
    """A local store's directory holds a symlink (or a layout it cannot use safely).

    A storage error, not invalid input: the key is fine and would work on any
    other store; the directory was tampered with, so nothing is read or written
    through it until an operator removes the link.
    """

    kind = "unsafe_path"


class UnsafeStoreError(StorageError):
    """The store accepted a second create-only write to one key: it ignores conditions."""

    kind = "unsafe_store"


class UntrustedBytesError(S3OpStoreError):
    """Op bytes whose binding is not signed by a trusted key: refused, never loaded.

    Raised only by a reader configured with trusted keys (design.md, D15): the
    binding is unsigned, signed by a key not in the trusted set, or its
    signature does not cover these fields (bytes changed, signature of another
    version copied). ``key_id`` is the signer's key id, None when unsigned.
    """

    kind = "untrusted_bytes"
    status = 403

    def __init__(self, op_name: str, version: str, key_id: str | None, problem: str) -> None:
        signer = "unsigned" if key_id is None else f"key {key_id}"
        super().__init__(f"the bytes of version {version} of op {op_name!r} ({signer}) are "
                         f"refused: {problem}")
        self.op_name = op_name
        self.version = version
        self.key_id = key_id


class OutcomeUnknownError(S3OpStoreError):
    """A write may or may not have been applied, and reading back could not tell.

    Retrying the same call (with the same idempotency key) is safe; cleaning up is not.
    """

    kind = "outcome_unknown"
    status = 503


class ConfigurationError(S3OpStoreError):
    """The deployment is set up wrongly: an environment variable, an option, the SDK's version.

    Nothing was read or written. The message names the setting, its value and
    what it needs; no request can succeed until it is fixed, so the HTTP faces
    answer every request with it.
    """

    kind = "misconfigured"
    status = 500


class UnsupportedFormatError(S3OpStoreError):
    """The store (or one manifest in it) was written by a newer s3opstore than this one.

    Raised when the store's root manifest has a format version above the one
    this release reads, or a manifest lists a ``must_understand`` field (or has
    a ``schema_version``) this release does not know (design.md, D13). The data
    is fine and nothing was written: upgrade s3opstore. Not an IntegrityError,
    so fsck and operators do not mistake a newer store for a damaged one.
    """

    kind = "unsupported_format"
    status = 500


def error_kinds() -> frozenset[str]:
    """Every stable error code: each exception class's ``kind`` and :data:`FACE_KINDS`."""
    kinds: set[str] = set(FACE_KINDS)
    pending: list[type[S3OpStoreError]] = [S3OpStoreError]
    while pending:
        cls = pending.pop()
        kinds.add(cls.kind)
        pending.extend(cls.__subclasses__())
    return frozenset(kinds)
