"""The HTTP API's plain data: a request, a response, and the limits.

Adapters (the Lambda handler, the WSGI app of ``serve``, tests) build an
:class:`ApiRequest` from whatever arrived and turn the :class:`ApiResponse`
back into their own shape; :func:`s3opstore.api.handle` never sees a socket
or an event. Header names are matched case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_BODY_BYTES", "LAMBDA_TOO_LARGE_ADVICE", "ApiConfig", "ApiRequest",
           "ApiResponse", "Call", "HttpError"]

# AWS Lambda refuses synchronous request and response payloads over 6 MB.
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
LAMBDA_TOO_LARGE_ADVICE = (
    "this endpoint (AWS Lambda) cannot carry more: Chariots' client sends op bytes "
    "inline, so point it at `s3opstore serve` (which takes large bodies) for such ops, or "
    "move the bytes with `s3opstore push`/`pull` or /v1/presign_upload + /v1/commit_upload "
    "(/v1/presign_download to read)")


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Limits of one deployment.

    ``max_body_bytes``: larger request bodies are refused with 413 before parsing.
    ``max_response_bytes``: ``get_op_bytes_for_version`` refuses (413) to answer
    with a body larger than this; the client uses ``presign_download`` instead.
    The default leaves room for the Lambda response envelope.
    ``presign_expires``: default lifetime of presigned URLs, in seconds.
    ``too_large_advice``: ends the 413 messages; tells the caller what to do instead.
    The default speaks to a Chariots user on Lambda, whose client can only send
    op bytes inline.
    """

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_response_bytes: int = DEFAULT_MAX_BODY_BYTES - 64 * 1024
    presign_expires: int = 900
    too_large_advice: str = LAMBDA_TOO_LARGE_ADVICE


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """``route`` and ``error_type`` are for the adapters' logs; they are not sent."""

    status: int
    headers: dict[str, str]
    body: bytes
    route: str | None = None
    error_type: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """What a route function gets besides its body: the caller's idempotency key, limits.

    ``skipped_keys``: a listing route appends the store keys its listing left out
    (they do not parse); the handler reports their number in a response header,
    since the seed routes' bodies must keep Chariots' shape.
    """

    idempotency_key: str | None
    config: ApiConfig
    skipped_keys: list[str] = field(default_factory=list)


class HttpError(Exception):
    """An HTTP-level refusal that is not a library error (413 too large, 422 bad upload).

    Library failures stay :class:`s3opstore.errors.S3OpStoreError`; this only
    carries statuses the library has no reason to know.
    """

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
