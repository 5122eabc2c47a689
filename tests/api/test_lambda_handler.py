"""The Lambda adapter with realistic events of the three shapes, over moto's S3."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from s3opstore import lambda_handler
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

VERSION = str(Version.from_parts(b"lambda", creation_time=datetime(2023, 7, 8, 9, 10, 11)))


class Context:
    aws_request_id = "c0ffee00-1111-2222-3333-444455556666"
    function_name = "s3opstore-api"


def http_api_event(path: str, body: str | None, *, method: str = "POST", stage: str = "$default",
                   b64: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": raw_path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc.execute-api.aws",
                    "user-agent": "python-requests/2.31.0", "accept": "*/*",
                    "x-forwarded-proto": "https", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.aws",
            "domainPrefix": "abc",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "python-requests/2.31.0"},
            "requestId": "req-http-api", "routeKey": "$default", "stage": stage,
            "time": "08/Jul/2023:09:10:11 +0000", "timeEpoch": 1688807411000},
        "body": base64.b64encode(body.encode()).decode() if (b64 and body) else body,
        "isBase64Encoded": b64,
    }


def function_url_event(path: str, body: str | None, *, method: str = "POST",
                       b64: bool = False) -> dict[str, Any]:
    event = http_api_event(path, body, method=method, b64=b64)
    event["requestContext"]["domainName"] = "xyz.lambda-url.eu-west-1.on.aws"
    event["requestContext"]["authorizer"] = {"iam": {
        "accessKey": "AKIAEXAMPLE", "accountId": "123456789012", "callerId": "AIDAEXAMPLE",
        "userArn": "arn:aws:iam::123456789012:user/ci", "userId": "AIDAEXAMPLE"}}
    event["requestContext"]["requestId"] = "req-function-url"
    return event


def rest_api_event(path: str, body: str | None, *, method: str = "POST", stage: str = "prod",
                   b64: bool = False, headers: dict[str, str] | None = None) -> dict[str, Any]:
    all_headers = {"Content-Type": "application/json", "Host": "abc.execute-api.aws",
                   **(headers or {})}
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"resourceId": "r1", "resourcePath": "/{proxy+}", "httpMethod": method,
                           "path": f"/{stage}{path}", "stage": stage, "requestId": "req-rest",
                           "accountId": "123456789012", "apiId": "abc",
                           "identity": {"sourceIp": "203.0.113.7"}},
        "body": base64.b64encode(body.encode()).decode() if (b64 and body) else body,
        "isBase64Encoded": b64,
    }


@pytest.fixture
def lambda_env(moto_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    prefix = f"lambda/{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("S3OPSTORE_URL", f"s3://mock-bucket/{prefix}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(lambda_handler, "_CONTAINER", None)
    yield prefix


def _logs(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


EVENT_SHAPES = {"http_api": http_api_event, "function_url": function_url_event,
                "rest_api": rest_api_event}


@pytest.mark.parametrize("shape", sorted(EVENT_SHAPES))
@pytest.mark.parametrize("b64", [False, True])
def test_seed_flow_through_each_event_shape(lambda_env: str, shape: str, b64: bool,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    make = EVENT_SHAPES[shape]

    def call(name: str, body: Any) -> tuple[int, Any]:
        result = lambda_handler.handler(make(f"/v1/{name}", json.dumps(body), b64=b64),
                                        Context())
        assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
        assert result["headers"]["Content-Type"] == "application/json"
        assert result["isBase64Encoded"] is False
        return result["statusCode"], json.loads(result["body"])

    assert call("pipeline_exists", {"pipeline_name": "pipe"}) == (200, {"exists": False})
    assert call("register_new_pipeline", {"pipeline_name": "pipe", "last_op_name": "clf"}) == (
        200, {})
    assert call("get_all_versions_of_op", {"desired_op_name": "clf"}) == (200, None)
    assert call("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "clf",
                                        "upstream_op_version": VERSION}) == (200, {})
    secret = b"\x00model-bytes\xff"
    assert call("save_op_bytes", {"op_name": "clf", "version": VERSION,
                                  "bytes": base64.b64encode(secret).decode()}) == (200, {})
    status, body = call("get_op_bytes_for_version", {"desired_op_name": "clf",
                                                      "version": VERSION})
    assert status == 200 and base64.b64decode(body["bytes"]) == secret
    assert call("get_all_versions_of_op", {"desired_op_name": "clf"}) == (
        200, {"op_name": "clf", "all_versions": [VERSION]})

    logs = _logs(capsys.readouterr().out)
    assert len(logs) == 7  # one line per request
    for line in logs:
        assert set(line) == {"msg", "route", "method", "status", "duration_ms", "s3_requests",
                             "request_id", "error_type"}
        assert line["status"] == 200 and line["method"] == "POST"
        assert line["request_id"] == Context.aws_request_id
        assert isinstance(line["duration_ms"], float)
    assert [line["route"] for line in logs][:2] == ["pipeline_exists", "register_new_pipeline"]
    text = json.dumps(logs)
    assert base64.b64encode(secret).decode() not in text and "testing" not in text


def test_store_is_built_once_per_container(lambda_env: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str | None] = []
    real = OpStore.from_url.__func__  # type: ignore[attr-defined]

    def counting(cls: type[OpStore], /, url: str | None = None, **kwargs: Any) -> OpStore:
        opened.append(url)
        return real(cls, url, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(OpStore, "from_url", classmethod(counting))
    for _ in range(3):
        result = lambda_handler.handler(http_api_event("/v1/list_ops", "{}"), Context())
        assert result["statusCode"] == 200
    assert opened == [f"s3://mock-bucket/{lambda_env}"]


def test_stage_prefix_is_stripped(lambda_env: str) -> None:
    event = http_api_event("/v1/list_ops", "{}", stage="prod")
    assert event["rawPath"] == "/prod/v1/list_ops"
    assert lambda_handler.handler(event, Context())["statusCode"] == 200
    # A REST API event's ``path`` has no stage; its requestContext.path has one.
    event = rest_api_event("/v1/list_ops", "{}", stage="prod")
    assert lambda_handler.handler(event, Context())["statusCode"] == 200


def test_s3_requests_are_counted_per_request(lambda_env: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    lambda_handler.handler(http_api_event("/v1/list_ops", "{}"), Context())
    lambda_handler.handler(http_api_event("/v1/nope", "{}"), Context())
    lambda_handler.handler(http_api_event("/v1/get_versions", '{"op_name": "a\\u0000b"}'),
                           Context())
    first, unknown, invalid = _logs(capsys.readouterr().out)
    # A cold start: GET the store's format (design.md, D13), then LIST ops/, LIST links/
    # and LIST status/ (which ops are hidden) with a delimiter.
    assert first["s3_requests"] == 4
    assert (unknown["status"], unknown["s3_requests"], unknown["route"]) == (404, 0, None)
    assert unknown["error_type"] == "unknown_route"
    assert (invalid["status"], invalid["s3_requests"]) == (400, 0)
    assert invalid["error_type"] == "invalid_name"


def test_errors_and_odd_events(lambda_env: str) -> None:
    result = lambda_handler.handler(http_api_event("/v1/list_ops", None, method="GET"),
                                    Context())
    assert result["statusCode"] == 405
    assert json.loads(result["body"])["error"]["type"] == "method_not_allowed"
    result = lambda_handler.handler(rest_api_event("/v1/save_op_bytes", "{bad json"),
                                    Context())
    assert result["statusCode"] == 400
    bad_b64 = http_api_event("/v1/list_ops", "{}")
    bad_b64.update(body="***not base64***", isBase64Encoded=True)
    assert lambda_handler.handler(bad_b64, Context())["statusCode"] == 400
    malformed: list[object] = [{}, {"requestContext": "x"}, {"httpMethod": "POST"}, [], None]
    for event in malformed:
        result = lambda_handler.handler(event, None)
        assert result["statusCode"] == 400
        assert json.loads(result["body"])["error"]["type"] == "invalid_event"


def test_body_limit_from_the_environment(lambda_env: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3OPSTORE_MAX_BODY_BYTES", "100000")
    body = json.dumps({"op_name": "m", "version": VERSION,
                       "bytes": base64.b64encode(b"z" * 120_000).decode()})
    result = lambda_handler.handler(function_url_event("/v1/save_op_bytes", body, b64=True),
                                    Context())
    assert result["statusCode"] == 413
    assert json.loads(result["body"])["error"]["type"] == "payload_too_large"


def test_idempotency_header_in_events(lambda_env: str) -> None:
    link = json.dumps({"downstream_op_name": None, "upstream_op_name": "m",
                       "upstream_op_version": VERSION})
    lambda_handler.handler(http_api_event("/v1/register_valid_link", link), Context())
    save = json.dumps({"op_name": "m", "version": VERSION, "bytes": "YQ=="})
    headers = {"Idempotency-Key": "k" * 201}
    result = lambda_handler.handler(rest_api_event("/v1/save_op_bytes", save, headers=headers),
                                    Context())
    assert result["statusCode"] == 400  # the header reached handle() and was checked
    result = lambda_handler.handler(
        rest_api_event("/v1/save_op_bytes", save, headers={"Idempotency-Key": "ok-1"}),
        Context())
    assert result["statusCode"] == 200


def test_missing_store_url_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S3OPSTORE_URL", raising=False)
    monkeypatch.setattr(lambda_handler, "_CONTAINER", None)
    result = lambda_handler.handler(http_api_event("/v1/list_ops", "{}"), Context())
    assert result["statusCode"] == 500
    assert json.loads(result["body"])["error"]["type"] == "misconfigured"
