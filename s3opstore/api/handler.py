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

from pydantic import ValidationError

from s3opstore.api.responses import (
    error_response,
    from_exception,
    from_validation_error,
    json_response,
)
from s3opstore.api.routes import routes_by_path
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse, Call, HttpError
from s3opstore.registry.opstore import OpStore

__all__ = ["IDEMPOTENCY_HEADER", "SKIPPED_HEADER", "handle"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
SKIPPED_HEADER = "S3opstore-Skipped-Keys"
_IDEMPOTENCY = re.compile(r"[\x21-\x7e]{1,200}")
_ROUTES = routes_by_path()
_DEFAULT_CONFIG = ApiConfig()
_SHOWN_PATH = 100


def _shown(path: str) -> str:
    return repr(path if len(path) <= _SHOWN_PATH else path[:_SHOWN_PATH] + "...")


def handle(request: ApiRequest, store: OpStore, config: ApiConfig | None = None) -> ApiResponse:
    config = config or _DEFAULT_CONFIG
    route = _ROUTES.get(request.path)
    if route is None:
        return error_response(404, "unknown_route", f"no route {_shown(request.path)}; "
                              "routes are POST /v1/<name>")
    if request.method.upper() != route.method:
        return error_response(405, "method_not_allowed",
                              f"{route.path} accepts {route.method} only",
                              route=route.name, headers={"Allow": route.method})
    if len(request.body) > config.max_body_bytes:
        return error_response(
            413, "payload_too_large",
            f"the request body is {len(request.body)} bytes, over the limit of "
            f"{config.max_body_bytes}; move large blobs with presign_upload / commit_upload",
            route=route.name)
    key = request.header(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY.fullmatch(key):
        return error_response(400, "invalid_input",
                              f"the {IDEMPOTENCY_HEADER} header must be 1-200 printable "
                              "ASCII characters without spaces", route=route.name)
    if key is not None and not route.write:
        key = None  # reads are naturally idempotent
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
    except HttpError as exc:
        return error_response(exc.status, exc.kind, exc.message, route=route.name)
    except Exception as exc:  # library errors keep their status; a surprise becomes a 500
        return from_exception(exc, route=route.name)
    headers = {SKIPPED_HEADER: str(len(call.skipped_keys))} if call.skipped_keys else None
    return json_response(result, route=route.name, headers=headers)
