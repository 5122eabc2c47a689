"""The Lambda adapter on the three HTTP event shapes (see lambda_events.py).

The events are authored here from AWS's documented payload formats (REST API proxy 1.0,
HTTP API 2.0, function URL). Powertools' own event classes read the same events as an
independent oracle: first that each event has the documented shape, then for the method,
path, body and stage the adapter reads.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore
import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
    LambdaFunctionUrlEvent,
)

from s3opstore import lambda_handler
from s3opstore.stores import s3 as s3_backend
from tests.api import lambda_events
from tests.api.test_lambda_handler import VERSION, Context, lambda_env  # noqa: F401 - fixture

ORACLES: dict[str, Any] = {"rest_api": APIGatewayProxyEvent,
                           "http_api": APIGatewayProxyEventV2,
                           "function_url": LambdaFunctionUrlEvent}
SHAPES = lambda_events.SHAPES


def aimed(shape: str, route: str, body: Any, *, stage: str = "$default",
          b64: bool = False) -> dict[str, Any]:
    """A POST of ``body`` to ``route`` as a gateway of ``shape`` on ``stage`` sends it."""
    return lambda_events.event(shape, "POST", route, body, stage=stage, b64=b64)


def test_rest_event_has_the_documented_shape() -> None:
    event = lambda_events.rest_api_event("POST", "/v1/list_ops", {"a": 1}, stage="v1")
    oracle = APIGatewayProxyEvent(event)
    assert (oracle.http_method, oracle.path, oracle.resource) == (
        "POST", "/v1/list_ops", "/{proxy+}")
    assert (oracle.body, oracle.is_base64_encoded) == ('{"a": 1}', False)
    assert oracle.headers["host"] == event["requestContext"]["domainName"]
    assert oracle.multi_value_headers["X-Forwarded-For"] == ["192.0.2.44", "198.51.100.7"]
    assert oracle.query_string_parameters == {"trace": "on", "tag": "b"}
    assert oracle.multi_value_query_string_parameters["tag"] == ["a", "b"]
    assert oracle.path_parameters == {"proxy": "v1/list_ops"}
    context = oracle.request_context
    assert (context.stage, context.path, context.http_method) == ("v1", "/v1/v1/list_ops",
                                                                  "POST")
    assert (context.account_id, context.api_id, context.resource_path) == (
        lambda_events.ACCOUNT, "r7k2q9w4ze", "/{proxy+}")
    assert context.request_id and context.request_time_epoch > 0
    assert context.identity.source_ip == "192.0.2.44"
    assert context.identity.user_agent == lambda_events.USER_AGENT
    assert context.authorizer.claims["cognito:username"] == "ops-tester"


@pytest.mark.parametrize("shape", ["http_api", "function_url"])
def test_v2_events_have_the_documented_shape(shape: str) -> None:
    event = lambda_events.event(shape, "POST", "/v1/list_ops", {"a": 1}, b64=True)
    oracle = ORACLES[shape](event)
    assert (oracle.version, oracle.route_key, oracle.raw_path) == (
        "2.0", "$default", "/v1/list_ops")
    assert (oracle.http_method, oracle.path) == ("POST", "/v1/list_ops")
    assert oracle.is_base64_encoded and oracle.decoded_body == '{"a": 1}'
    assert oracle.raw_query_string == "trace=on&tag=a&tag=b"
    assert oracle.query_string_parameters == {"trace": "on", "tag": "a,b"}
    assert oracle.cookies == ["session=4f2a9c", "theme=dark"]
    assert oracle.headers["host"] == oracle.request_context.domain_name
    context = oracle.request_context
    assert (context.stage, context.route_key, context.account_id) == (
        "$default", "$default", lambda_events.ACCOUNT)
    assert context.http.method == "POST" and context.http.source_ip
    assert context.http.user_agent == lambda_events.USER_AGENT
    assert context.request_id and context.time_epoch > 0
    if shape == "http_api":
        assert context.authorizer.jwt_scopes == ["ops.read", "ops.write"]
        assert context.authentication is not None
        assert context.authentication.subject_dn == "CN=ops-tester,O=Example Org"
        assert context.domain_name.endswith(".amazonaws.com")
    else:
        assert context.authorizer.iam.account_id == lambda_events.ACCOUNT
        assert context.authorizer.iam.user_arn.endswith(":user/ops-tester")
        assert context.domain_name.endswith(".lambda-url.eu-west-1.on.aws")


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_gets_json_answers(lambda_env: str, shape: str) -> None:  # noqa: F811
    event = lambda_events.event(shape, "GET", "/no/such/route")
    oracle = ORACLES[shape](event)
    request = lambda_handler.to_request(event)
    assert (request.method, request.path) == (oracle.http_method, oracle.path)
    assert request.body == b""
    result = lambda_handler.handler(event, Context())
    answer = json.loads(result["body"])
    assert (result["statusCode"], answer["error"]["type"]) == (404, "unknown_route")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_body_falsely_marked_base64_is_an_invalid_event(lambda_env: str,  # noqa: F811
                                                          shape: str) -> None:
    event = lambda_events.event(shape, "POST", "/v1/list_ops", "Hello from Lambda!")
    event["isBase64Encoded"] = True
    with pytest.raises(lambda_handler._BadEvent):
        lambda_handler.to_request(event)
    result = lambda_handler.handler(event, Context())
    answer = json.loads(result["body"])
    assert (result["statusCode"], answer["error"]["type"]) == (400, "invalid_event")


# Function URLs have only the $default stage; the gateways may have named ones.
STAGED = [(shape, stage) for shape in SHAPES for stage in ("$default", "prod", "v1")
          if shape != "function_url" or stage == "$default"]


@pytest.mark.parametrize(("shape", "stage"), STAGED)
@pytest.mark.parametrize("b64", [False, True])
def test_seed_routes_through_each_shape_and_stage(lambda_env: str, shape: str,  # noqa: F811
                                                   stage: str, b64: bool) -> None:
    link = {"downstream_op_name": None, "upstream_op_name": "clf",
            "upstream_op_version": VERSION}
    event = aimed(shape, "/v1/register_valid_link", link, stage=stage, b64=b64)
    request = lambda_handler.to_request(event)
    oracle = ORACLES[shape](event)
    assert request.body.decode() == oracle.decoded_body
    assert (oracle.is_base64_encoded, oracle.request_context.stage) == (b64, stage)
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
    monkeypatch.setattr(botocore, "__version__", "1.35.36")
    result = lambda_handler.handler(aimed("http_api", "/v1/list_ops", {}), Context())
    error = json.loads(result["body"])["error"]
    assert (result["statusCode"], error["type"]) == (500, "misconfigured")
    assert "botocore 1.35.36 is too old" in error["message"]
    assert "1.35.69" in error["message"] and "\n" not in error["message"]
    s3_backend.check_sdk_version("1.35.69")  # the minimum itself is accepted
    s3_backend.check_sdk_version("2.0.0")
