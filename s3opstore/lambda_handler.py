"""AWS Lambda entry point: ``s3opstore.lambda_handler.handler``.

Accepts API Gateway HTTP API events (payload 2.0), API Gateway REST API
proxy events (1.0) and Lambda Function URL events (2.0 shape), turns them
into an :class:`~s3opstore.api.ApiRequest` and answers with the proxy
response shape both gateways and Function URLs understand. Base64 bodies are
decoded. A payload 2.0 ``rawPath`` starts with the stage when the stage is not
``$default``, so ``/<stage>`` is stripped there; a REST event's ``path`` never
holds the stage (only ``requestContext.path`` does) and is used as it is, so a
stage named like a route prefix (``v1``) still routes.

The OpStore (and its boto3 client) is built once per container, lazily, from
``S3OPSTORE_URL``; ``S3OPSTORE_MAX_BODY_BYTES`` overrides the body limit
(both read by :mod:`s3opstore.api.config`). A missing or invalid setting is
answered on every invocation as a 500 ``misconfigured`` naming the variable;
the handler itself never raises.
One JSON log line per request goes to stdout (CloudWatch).

Cold start: this module imports the API core, pydantic and orjson only;
boto3 is imported when the first request builds the store, and the CLI or
any optional dependency never.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3opstore.api.config import ENV_URL, api_config, store_url
from s3opstore.api.handler import handle
from s3opstore.api.observe import S3RequestCounter, log_request
from s3opstore.api.responses import error_response
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse
from s3opstore.errors import ConfigurationError, InvalidInputError, S3OpStoreError
from s3opstore.registry.opstore import OpStore

__all__ = ["handler"]

log = logging.getLogger("s3opstore.lambda")


@dataclass
class _Container:
    store: OpStore
    config: ApiConfig
    counter: S3RequestCounter


_CONTAINER: _Container | None = None
_LOCK = threading.Lock()


def _container() -> _Container:
    """The container's store and limits; ConfigurationError names a bad setting.

    Nothing is cached on failure, so fixing the function's environment takes
    effect on the next cold start and every invocation until then gets the
    same ``misconfigured`` answer.
    """
    global _CONTAINER
    with _LOCK:
        if _CONTAINER is None:
            config = api_config(os.environ)
            url = store_url(os.environ)
            try:
                store = OpStore.from_url(url)
            except InvalidInputError as exc:
                raise ConfigurationError(f"{ENV_URL}={url!r} cannot be opened: "
                                         f"{exc.message}") from exc
            counter = S3RequestCounter()
            counter.attach(store)
            _CONTAINER = _Container(store, config, counter)
        return _CONTAINER


class _BadEvent(Exception):
    pass


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    raw = event.get("headers") or {}
    if not isinstance(raw, Mapping):
        raise _BadEvent("headers is not an object")
    return {str(k).lower(): str(v) for k, v in raw.items() if v is not None}


def _strip_stage(path: str, stage: object) -> str:
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = f"/{stage}"
        if path == prefix:
            return "/"
        if path.startswith(prefix + "/"):
            return path[len(prefix):]
    return path


def to_request(event: Mapping[str, Any]) -> ApiRequest:
    """An ApiRequest from a payload 2.0, REST proxy 1.0 or Function URL event."""
    if not isinstance(event, Mapping):
        raise _BadEvent("the event is not an object")
    context = event.get("requestContext") or {}
    if not isinstance(context, Mapping):
        raise _BadEvent("requestContext is not an object")
    http = context.get("http")
    if isinstance(http, Mapping):  # payload 2.0: HTTP API and Function URLs
        method, path = http.get("method"), event.get("rawPath") or http.get("path")
        if isinstance(path, str):  # rawPath starts with a named stage: /<stage>/v1/...
            path = _strip_stage(path, context.get("stage"))
    else:  # payload 1.0 (REST API proxy): ``path`` never holds the stage, so keep it whole
        method, path = event.get("httpMethod"), event.get("path")
    if not isinstance(method, str) or not isinstance(path, str):
        raise _BadEvent("no HTTP method and path in the event")
    body = event.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise _BadEvent("body is not a string")
    elif event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _BadEvent("the base64 body does not decode") from None
    else:
        data = body.encode("utf-8", errors="surrogatepass")
    return ApiRequest(method=method, path=path, headers=_headers(event), body=data)


def to_result(response: ApiResponse) -> dict[str, Any]:
    return {"statusCode": response.status, "headers": dict(response.headers),
            "body": response.body.decode("utf-8"), "isBase64Encoded": False}


def _request_id(event: Any, context: Any) -> str | None:
    found = getattr(context, "aws_request_id", None)
    if isinstance(found, str):
        return found
    if isinstance(event, Mapping):
        ctx = event.get("requestContext")
        if isinstance(ctx, Mapping) and isinstance(ctx.get("requestId"), str):
            return str(ctx["requestId"])
    return None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda function: one HTTP request in, one proxy response out."""
    started = time.perf_counter()
    method, counter = "?", None
    try:
        request = to_request(event)
        method = request.method
        container = _container()
        counter = container.counter
        counter.reset()
        response = handle(request, container.store, container.config)
    except _BadEvent as exc:
        response = error_response(400, "invalid_event", f"not an HTTP request event: {exc}")
    except ConfigurationError as exc:
        response = error_response(exc.status, exc.kind, exc.message)
    except S3OpStoreError as exc:
        response = error_response(exc.status, exc.kind, exc.message)
    except Exception:  # never raise: an invocation that raises answers nothing useful
        log.exception("unexpected error handling a Lambda event")
        response = error_response(500, "internal", "internal error; see the function's log")
    log_request(route=response.route, method=method, status=response.status,
                duration_ms=(time.perf_counter() - started) * 1000,
                s3_requests=counter.count if counter is not None else None,
                request_id=_request_id(event, context), error_type=response.error_type)
    return to_result(response)
