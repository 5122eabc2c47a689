"""The OpenAPI 3.1 document, generated from the route table and pydantic models.

``scripts/gen_openapi.py`` writes :func:`render` to ``docs/openapi.json``; a
test fails when the checked-in file differs, so the document cannot drift
from the code. Output is deterministic (sorted schema names, fixed indent).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from s3opstore.api import models as m
from s3opstore.api.handler import IDEMPOTENCY_HEADER
from s3opstore.api.routes import ROUTES, Route

__all__ = ["build", "render"]

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed JSON, a missing, unknown or mistyped field, an invalid name or version "
           "(invalid_input, invalid_name, invalid_version)",
    "404": "Unknown op, version, bytes, alias or route",
    "405": "Wrong method (method_not_allowed)",
    "409": "Conflict that persisted after retries, alias compare-and-swap failed, or an "
           "idempotency key reused for other content",
    "413": "Request body over the limit (payload_too_large) or answer too large "
           "(response_too_large)",
    "503": "Storage throttled or unavailable, or a write's outcome unknown: retry, with the "
           "same Idempotency-Key for writes",
}


def _schema_name(model: type[BaseModel]) -> str:
    return model.__name__


def _operation(route: Route) -> dict[str, Any]:
    response_ref: dict[str, Any] = {"$ref": _REF.format(model=_schema_name(route.response))}
    ok_schema = {"anyOf": [response_ref, {"type": "null"}]} if route.nullable else response_ref
    responses: dict[str, Any] = {
        "200": {"description": "Success" + (" (null: nothing found)" if route.nullable else ""),
                "content": {"application/json": {"schema": ok_schema}}}}
    codes = dict(_ERRORS)
    if route.name == "commit_upload":
        codes["422"] = "The uploaded blob's size or sha256 differs from the announced one " \
                       "(integrity); nothing was bound"
    for code, text in sorted(codes.items()):
        responses[code] = {"description": text, "content": {"application/json": {
            "schema": {"$ref": _REF.format(model="ErrorResponse")}}}}
    operation: dict[str, Any] = {
        "operationId": route.name, "summary": route.summary, "tags": [route.tag],
        "requestBody": {"required": not _empty_allowed(route), "content": {"application/json": {
            "schema": {"$ref": _REF.format(model=_schema_name(route.request))}}}},
        "responses": responses,
    }
    if route.write:
        operation["parameters"] = [{
            "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
            "description": "Retrying a write with the same key applies it once, even from "
                           "another process",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                       "pattern": "^[\\x21-\\x7e]+$"}}]
    return operation


def _empty_allowed(route: Route) -> bool:
    return not route.request.model_fields


def build() -> dict[str, Any]:
    models: list[type[BaseModel]] = sorted(
        {route.request for route in ROUTES} | {route.response for route in ROUTES}
        | {m.ErrorResponse}, key=_schema_name)
    _, definitions = models_json_schema(
        [(model, "validation" if model in {r.request for r in ROUTES} else "serialization")
         for model in models], ref_template=_REF)
    schemas = dict(sorted(definitions.get("$defs", {}).items()))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "s3opstore HTTP API",
            "version": "1",
            "description": "Chariots' OpStore routes (byte-compatible) plus listing, "
                           "version metadata, aliases and presigned transfers. Every route is "
                           "POST with a JSON body; see docs/http-api.md.",
        },
        "paths": {route.path: {route.method.lower(): _operation(route)} for route in ROUTES},
        "components": {"schemas": schemas},
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
