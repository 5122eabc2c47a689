"""The Lambda adapter on AWS's published sample events (see events/README.md).

Each sample is used as published, then with only the fields under test changed.
Powertools' own event classes read the same events as an independent oracle for
method, path and body.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
    LambdaFunctionUrlEvent,
)

from s3opstore import lambda_handler
from s3opstore.stores import s3 as s3_backend
from tests.api.test_lambda_handler import VERSION, Context, lambda_env  # noqa: F401 - fixture

EVENTS = Path(__file__).parent / "events"
SAMPLES = {"rest_api": ("apiGatewayProxyEvent.json", APIGatewayProxyEvent),
           "http_api": ("apiGatewayProxyV2Event.json", APIGatewayProxyEventV2),
           "function_url": ("lambdaFunctionUrlEvent.json", LambdaFunctionUrlEvent)}


def sample(shape: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / SAMPLES[shape][0]).read_text())
    return data


def aimed(shape: str, route: str, body: Any, *, stage: str = "$default",
          b64: bool = False) -> dict[str, Any]:
    """The sample with its method, path, body and stage set as a gateway would send them."""
    event = copy.deepcopy(sample(shape))
    text = json.dumps(body)
    event["body"] = base64.b64encode(text.encode()).decode() if b64 else text
    event["isBase64Encoded"] = b64
    context = event["requestContext"]
    context["stage"] = stage
    staged = route if stage == "$default" else f"/{stage}{route}"
    if shape == "rest_api":  # path without the stage; requestContext.path with it
        event.update(httpMethod="POST", path=route, resource="/{proxy+}")
        context.update(httpMethod="POST", path=staged, resourcePath="/{proxy+}")
    else:  # rawPath carries the stage
        event["rawPath"] = staged
        context["http"].update(method="POST", path=staged)
    return event


@pytest.mark.parametrize("shape", sorted(SAMPLES))
def test_samples_as_published_get_json_answers(lambda_env: str, shape: str) -> None:  # noqa: F811
    event = sample(shape)
    oracle = SAMPLES[shape][1](event)
    request = None
    try:
        request = lambda_handler.to_request(event)
    except lambda_handler._BadEvent:
        # the published REST sample marks "Hello from Lambda!" as base64, which it is not
        assert shape == "rest_api" and event["isBase64Encoded"]
    if request is not None:
        assert (request.method, request.path) == (oracle.http_method, oracle.path)
        assert request.body.decode() == oracle.decoded_body
    result = lambda_handler.handler(event, Context())
    answer = json.loads(result["body"])
    expected = (400, "invalid_event") if request is None else (404, "unknown_route")
    assert (result["statusCode"], answer["error"]["type"]) == expected


# Function URLs have only the $default stage; the gateways may have named ones.
STAGED = [(shape, stage) for shape in sorted(SAMPLES) for stage in ("$default", "prod", "v1")
          if shape != "function_url" or stage == "$default"]


@pytest.mark.parametrize(("shape", "stage"), STAGED)
@pytest.mark.parametrize("b64", [False, True])
def test_seed_routes_through_each_sample_and_stage(lambda_env: str, shape: str,  # noqa: F811
                                                   stage: str, b64: bool) -> None:
    link = {"downstream_op_name": None, "upstream_op_name": "clf",
            "upstream_op_version": VERSION}
    event = aimed(shape, "/v1/register_valid_link", link, stage=stage, b64=b64)
    request = lambda_handler.to_request(event)
    oracle = SAMPLES[shape][1](event)
    assert request.body.decode() == oracle.decoded_body
    assert request.path == "/v1/register_valid_link"
    result = lambda_handler.handler(event, Context())
    assert (result["statusCode"], json.loads(result["body"])) == (200, {})
    save = {"op_name": "clf", "version": VERSION, "bytes": base64.b64encode(b"m").decode()}
    result = lambda_handler.handler(aimed(shape, "/v1/save_op_bytes", save, stage=stage,
                                          b64=b64), Context())
    assert result["statusCode"] == 200
    read = {"desired_op_name": "clf", "version": VERSION}
    result = lambda_handler.handler(aimed(shape, "/v1/get_op_bytes_for_version", read,
                                          stage=stage, b64=b64), Context())
    assert base64.b64decode(json.loads(result["body"])["bytes"]) == b"m"


def test_rest_stage_named_v1_keeps_the_route(lambda_env: str) -> None:  # noqa: F811
    # the bug: "/v1" was stripped from path "/v1/list_ops" although REST paths hold no stage
    event = aimed("rest_api", "/v1/list_ops", {}, stage="v1")
    assert event["requestContext"]["path"] == "/v1/v1/list_ops"
    assert lambda_handler.to_request(event).path == "/v1/list_ops"
    assert lambda_handler.handler(event, Context())["statusCode"] == 200


def test_too_large_tells_a_chariots_user_what_to_do(lambda_env: str) -> None:  # noqa: F811
    body = {"op_name": "clf", "version": VERSION,
            "bytes": base64.b64encode(b"z" * (6 * 1024 * 1024)).decode()}
    result = lambda_handler.handler(aimed("http_api", "/v1/save_op_bytes", body), Context())
    error = json.loads(result["body"])["error"]
    assert (result["statusCode"], error["type"]) == (413, "payload_too_large")
    assert "s3opstore serve" in error["message"] and "s3opstore push" in error["message"]
    assert "Chariots" in error["message"]


def test_an_old_sdk_is_misconfigured_in_one_line(lambda_env: str,  # noqa: F811
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_backend.botocore, "__version__", "1.35.36")
    result = lambda_handler.handler(aimed("http_api", "/v1/list_ops", {}), Context())
    error = json.loads(result["body"])["error"]
    assert (result["statusCode"], error["type"]) == (500, "misconfigured")
    assert "botocore 1.35.36 is too old" in error["message"]
    assert "1.35.69" in error["message"] and "\n" not in error["message"]
    s3_backend.check_sdk_version("1.35.69")  # the minimum itself is accepted
    s3_backend.check_sdk_version("2.0.0")
