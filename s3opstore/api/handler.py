"""``handle(request, store)``: the whole HTTP API as one pure function.

Order of checks, all before any store request: route (404
``unknown_route``), method (405 with ``Allow``), body size (413), the
``Idempotency-Key`` header (400), then the body through the route's strict
pydantic model (400). Only a valid request reaches the OpStore, whose errors
keep their own ``kind`` and ``status``. An unexpected exception is a 500
``internal``; bad input never is, and no exception leaves :func:`handle`.

A listing that had to skip store keys which do not parse (see
:mod:`s3opstore.registry.listing`) still answers 200 with the good records,
and says how many keys it left out in the ``S3opstore-Skipped-Keys`` header.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from pydantic import ValidationError

from s3opstore.api import models as m
from s3opstore.api import streaming
from s3opstore.api.responses import (
    error_response,
    from_exception,
    from_validation_error,
    json_response,
)
from s3opstore.api.routes import Route, routes_by_path
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse, Call, HttpError
from s3opstore.registry.opstore import OpStore

__all__ = ["IDEMPOTENCY_HEADER", "SKIPPED_HEADER", "handle", "handle_op_bytes_stream",
           "handle_save_stream", "handle_unread"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
SKIPPED_HEADER = "S3opstore-Skipped-Keys"
_IDEMPOTENCY = re.compile(r"[\x21-\x7e]{1,200}")
_ROUTES = routes_by_path()
_DEFAULT_CONFIG = ApiConfig()
_SHOWN_PATH = 100


def _shown(path: str) -> str:
    return repr(path if len(path) <= _SHOWN_PATH else path[:_SHOWN_PATH] + "...")


def _precheck(request: ApiRequest, config: ApiConfig,
              length: int) -> tuple[Route, str | None] | ApiResponse:
    """Route, method, size and idempotency key: the checks before any parsing."""
    route = _ROUTES.get(request.path)
    if route is None:
        return error_response(404, "unknown_route", f"no route {_shown(request.path)}; "
                              "routes are POST /v1/<name>")
    if request.method.upper() != route.method:
        return error_response(405, "method_not_allowed",
                              f"{route.path} accepts {route.method} only",
                              route=route.name, headers={"Allow": route.method})
    if length > config.max_body_bytes:
        return error_response(
            413, "payload_too_large",
            f"the request body is {length} bytes, over the limit of "
            f"{config.max_body_bytes}; {config.too_large_advice}", route=route.name)
    key = request.header(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY.fullmatch(key):
        return error_response(400, "invalid_input",
                              f"the {IDEMPOTENCY_HEADER} header must be 1-200 printable "
                              "ASCII characters without spaces", route=route.name)
    if key is not None and not route.write:
        key = None  # reads are naturally idempotent
    return route, key


def _failure(exc: Exception, route: Route) -> ApiResponse:
    if isinstance(exc, HttpError):
        return error_response(exc.status, exc.kind, exc.message, route=route.name)
    return from_exception(exc, route=route.name)  # library errors keep their status


def handle(request: ApiRequest, store: OpStore, config: ApiConfig | None = None) -> ApiResponse:
    config = config or _DEFAULT_CONFIG
    checked = _precheck(request, config, len(request.body))
    if isinstance(checked, ApiResponse):
        return checked
    route, key = checked
    try:
        body = request.body if request.body.strip() else b"{}"
        parsed = route.request.model_validate_json(body, strict=True)
    except ValidationError as exc:
        return from_validation_error(exc, route=route.name)
    except Exception as exc:  # a parser raising anything else is a bug: 500, never escape
        return from_exception(exc, route=route.name)
    call = Call(key, config)
    try:
        result = route.func(store, parsed, call)
    except Exception as exc:
        return _failure(exc, route)
    headers = {SKIPPED_HEADER: str(len(call.skipped_keys))} if call.skipped_keys else None
    return json_response(result, route=route.name, headers=headers)


def handle_unread(request: ApiRequest, length: int, config: ApiConfig) -> ApiResponse:
    """The answer to a request whose body (``length`` bytes) is over the limit, unread."""
    checked = _precheck(request, config, length)
    if isinstance(checked, ApiResponse):
        return checked
    raise ValueError(f"a body of {length} bytes is within the limit; use handle()")


def handle_save_stream(request: ApiRequest, source: BinaryIO, length: int, store: OpStore,
                       config: ApiConfig) -> ApiResponse:
    """``save_op_bytes`` with its body read from ``source`` in bounded memory.

    ``config.max_body_bytes`` bounds ``length`` as in :func:`handle`; the body
    itself is never held whole (see :mod:`s3opstore.api.streaming`).
    """
    checked = _precheck(request, config, length)
    if isinstance(checked, ApiResponse):
        return checked
    route, key = checked
    try:
        result = streaming.save_op_bytes_stream(store, source, length, Call(key, config))
    except ValidationError as exc:
        return from_validation_error(exc, route=route.name)
    except Exception as exc:
        return _failure(exc, route)
    return json_response(result, route=route.name)


def handle_op_bytes_stream(request: ApiRequest, store: OpStore, config: ApiConfig
                           ) -> ApiResponse | streaming.OpBytesStream:
    """``get_op_bytes_for_version`` answered as a stream (no response size limit)."""
    checked = _precheck(request, config, len(request.body))
    if isinstance(checked, ApiResponse):
        return checked
    route, _ = checked
    try:
        body = request.body if request.body.strip() else b"{}"
        parsed = m.GetOpBytesForVersionRequest.model_validate_json(body, strict=True)
    except ValidationError as exc:
        return from_validation_error(exc, route=route.name)
    try:
        return streaming.open_op_bytes(store, parsed)
    except Exception as exc:
        return _failure(exc, route)
