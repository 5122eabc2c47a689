"""Building responses, and the one mapping from failures to HTTP errors.

Every error body is ``{"error": {"type": <kind>, "message": <text>}}``.
Library errors carry their own ``kind`` and ``status``
(:mod:`s3opstore.errors`); a pydantic ``ValidationError`` or malformed JSON
is a 400 whose type is ``invalid_name`` / ``invalid_version`` when every
problem is of that kind, else ``invalid_input``; anything unexpected is a 500
``internal`` with a generic message (the traceback goes to the log, never to
the client). Messages never echo request bodies.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from s3opstore.api.types import ApiResponse
from s3opstore.errors import S3OpStoreError

__all__ = ["error_response", "from_exception", "from_validation_error", "json_response"]

log = logging.getLogger("s3opstore.api")

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}
_MAX_PROBLEMS = 5
_SPECIFIC_KINDS = ("invalid_name", "invalid_version")


def json_response(payload: BaseModel | dict[str, Any] | None, *, status: int = 200,
                  route: str | None = None,
                  headers: dict[str, str] | None = None) -> ApiResponse:
    data = payload.model_dump(mode="json", by_alias=True) if isinstance(
        payload, BaseModel) else payload
    return ApiResponse(status, {**JSON_HEADERS, **(headers or {})}, orjson.dumps(data),
                       route=route)


def error_response(status: int, kind: str, message: str, *, route: str | None = None,
                   headers: dict[str, str] | None = None) -> ApiResponse:
    body = orjson.dumps({"error": {"type": kind, "message": message}})
    return ApiResponse(status, {**JSON_HEADERS, **(headers or {})}, body, route=route,
                       error_type=kind)


def from_exception(exc: Exception, *, route: str | None = None) -> ApiResponse:
    """A library error keeps its kind and status; anything else is a logged 500.

    A ValidationError raised *inside* a route (building an answer) is a bug, not bad
    input, so only the request parser maps validation errors to 400.
    """
    if isinstance(exc, S3OpStoreError):
        return error_response(exc.status, exc.kind, exc.message, route=route)
    log.exception("unexpected error in route %s", route)
    return error_response(500, "internal", "internal error; see the server log", route=route)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def from_validation_error(exc: ValidationError, *, route: str | None = None) -> ApiResponse:
    problems = exc.errors(include_url=False, include_input=False)
    kinds = {problem["type"] for problem in problems}
    kind = kinds.pop() if len(kinds) == 1 and kinds <= set(_SPECIFIC_KINDS) else "invalid_input"
    if any(problem["type"] == "json_invalid" for problem in problems):
        message = "the request body is not valid JSON"
    else:
        message = "; ".join(f"{_where(p['loc'])}: {p['msg']}" for p in problems[:_MAX_PROBLEMS])
        if len(problems) > _MAX_PROBLEMS:
            message += f"; and {len(problems) - _MAX_PROBLEMS} more problems"
    return error_response(400, kind, message, route=route)
