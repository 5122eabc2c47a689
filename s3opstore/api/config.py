"""The deployment's environment variables, read and checked in one place.

A deployed function cannot ask anyone what a setting meant: a value that
does not parse must become an answer (HTTP 500 ``misconfigured`` naming the
variable and its value) on every request, never an exception that makes
every invocation fail with nothing but a stack trace in the log. Each reader
here raises :class:`~s3opstore.errors.ConfigurationError` and nothing else.

- ``S3OPSTORE_URL``: required, ``s3://bucket/prefix`` (or any store URL).
- ``S3OPSTORE_MAX_BODY_BYTES``: optional whole number of bytes, at least
  :data:`MIN_BODY_BYTES`; the largest response is 64 KiB less (room for the
  Lambda response envelope).

The S3 client's own settings (``AWS_ENDPOINT_URL_S3``, ``AWS_DEFAULT_REGION``)
are checked where the client is built (:func:`s3opstore.stores.s3.default_client`),
with the same error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from s3opstore.api.types import ApiConfig
from s3opstore.errors import ConfigurationError

__all__ = ["ENV_MAX_BODY_BYTES", "ENV_URL", "MIN_BODY_BYTES", "api_config", "store_url"]

ENV_URL = "S3OPSTORE_URL"
ENV_MAX_BODY_BYTES = "S3OPSTORE_MAX_BODY_BYTES"
_ENVELOPE = 64 * 1024
# get_op_bytes_for_version keeps 1 KiB of a response for the JSON around the bytes:
# the smallest limit leaves 2 KiB of response, enough for a small op.
MIN_BODY_BYTES = _ENVELOPE + 2 * 1024
_DIGITS = re.compile(r"[0-9]{1,30}")
_SHOWN = 80


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def store_url(environ: Mapping[str, str]) -> str:
    url = environ.get(ENV_URL, "")
    if not url.strip():
        raise ConfigurationError(f"{ENV_URL} is not set (expected s3://bucket/prefix)")
    return url


def api_config(environ: Mapping[str, str]) -> ApiConfig:
    raw = environ.get(ENV_MAX_BODY_BYTES)
    if raw is None or raw == "":
        return ApiConfig()
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) < MIN_BODY_BYTES:
        raise ConfigurationError(
            f"{ENV_MAX_BODY_BYTES}={_shown(raw)} is invalid: expected a whole number of bytes "
            f"of at least {MIN_BODY_BYTES} without a unit (6 MiB is 6291456)")
    limit = int(text)
    return ApiConfig(max_body_bytes=limit, max_response_bytes=limit - _ENVELOPE)
