"""Lambda HTTP events of the three shapes the adapter accepts, authored for these tests.

Each builder writes, field by field, the payload AWS documents for its source:

- ``rest_api_event``: an API Gateway REST API Lambda proxy integration (payload format 1.0),
  with ``multiValueHeaders``/``multiValueQueryStringParameters``, the ``identity`` block and
  a Cognito user pool authorizer's ``claims``;
- ``http_api_event``: an API Gateway HTTP API Lambda integration (payload format 2.0), with
  ``rawPath``/``rawQueryString``, ``cookies``, a mutual-TLS ``authentication`` block and a
  JWT authorizer;
- ``function_url_event``: a Lambda function URL request (payload 2.0 shape, stage and route
  key always ``$default``), with an ``AWS_IAM`` authorizer block.

Every value is our own: account ``246813579024``, made-up API and request ids, source
addresses from the documentation ranges (RFC 5737), timestamps in November 2026. A gateway
sends the stage in ``requestContext.path`` (REST) or in ``rawPath`` (HTTP API), never in a
REST API's ``path``; the builders place it the same way.
"""

from __future__ import annotations

import base64
import json
from typing import Any

ACCOUNT = "246813579024"
REGION = "eu-west-1"
USER_AGENT = "s3opstore-tests/1.0 (python-requests)"
TIME = "14/Nov/2026:09:12:05 +0000"
TIME_EPOCH_MS = 1794647525000


def _body(body: Any, b64: bool) -> str | None:
    if body is None:
        return None
    text = body if isinstance(body, str) else json.dumps(body)
    return base64.b64encode(text.encode()).decode() if b64 else text


def _staged(route: str, stage: str) -> str:
    return route if stage == "$default" else f"/{stage}{route}"


def rest_api_event(method: str = "GET", route: str = "/v1/list_ops", body: Any = None, *,
                   stage: str = "prod", b64: bool = False) -> dict[str, Any]:
    """A REST API proxy event (payload 1.0) for ``ANY /{proxy+}``."""
    api_id = "r7k2q9w4ze"
    host = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
        "Authorization": "Bearer eyJraWQiOiJ0ZXN0In0.e30.c2lnbmF0dXJl",
        "Content-Type": "application/json",
        "Host": host,
        "User-Agent": USER_AGENT,
        "X-Amzn-Trace-Id": "Root=1-67359a05-4c1f0e2d8b7a6f5e4d3c2b1a",
        "X-Forwarded-For": "192.0.2.44, 198.51.100.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    multi_headers = {name: [v.strip() for v in value.split(",")]
                     if name == "X-Forwarded-For" else [value]
                     for name, value in headers.items()}
    return {
        "resource": "/{proxy+}",
        "path": route,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {"trace": "on", "tag": "b"},
        "multiValueQueryStringParameters": {"trace": ["on"], "tag": ["a", "b"]},
        "pathParameters": {"proxy": route.lstrip("/")},
        "stageVariables": {"storeLabel": "tests"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "authorizer": {
                "claims": {"sub": "5f1c9a3e-0b7d-4e2a-9c6f-81d2b3a4c5e6",
                           "cognito:username": "ops-tester",
                           "email": "ops-tester@example.org"},
                "scopes": None,
            },
            "domainName": host,
            "domainPrefix": api_id,
            "extendedRequestId": "Qm3tXfR2LPEFz8w=",
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "apiKey": None,
                "apiKeyId": None,
                "caller": None,
                "clientCert": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": "192.0.2.44",
                "user": None,
                "userAgent": USER_AGENT,
                "userArn": None,
            },
            "path": _staged(route, stage),
            "protocol": "HTTP/1.1",
            "requestId": "0b6e2f4a-93c1-4d7e-a5b8-2c9f1e3d7a60",
            "requestTime": TIME,
            "requestTimeEpoch": TIME_EPOCH_MS,
            "resourceId": "x3v8pk",
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": _body(body, b64),
        "isBase64Encoded": b64,
    }


def _v2_event(method: str, route: str, body: Any, *, stage: str, b64: bool, api_id: str,
              host: str, request_id: str, source_ip: str,
              authorizer: dict[str, Any], authentication: dict[str, Any] | None
              ) -> dict[str, Any]:
    """The payload 2.0 shape shared by HTTP APIs and function URLs."""
    raw_path = _staged(route, stage)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "trace=on&tag=a&tag=b",
        "cookies": ["session=4f2a9c", "theme=dark"],
        "headers": {
            "accept": "application/json",
            "accept-encoding": "gzip, deflate",
            "content-type": "application/json",
            "host": host,
            "user-agent": USER_AGENT,
            "x-amzn-trace-id": "Root=1-67359a05-9e8d7c6b5a4f3e2d1c0b9a87",
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "queryStringParameters": {"trace": "on", "tag": "a,b"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "authentication": authentication,
            "authorizer": authorizer,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": USER_AGENT,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": TIME,
            "timeEpoch": TIME_EPOCH_MS,
        },
        "body": _body(body, b64),
        "pathParameters": None,
        "isBase64Encoded": b64,
        "stageVariables": None,
    }


def http_api_event(method: str = "GET", route: str = "/v1/list_ops", body: Any = None, *,
                   stage: str = "$default", b64: bool = False) -> dict[str, Any]:
    """An HTTP API event (payload 2.0) with a JWT authorizer and a mutual-TLS client cert."""
    api_id = "h4n8c2t6yb"
    event = _v2_event(
        method, route, body, stage=stage, b64=b64, api_id=api_id,
        host=f"{api_id}.execute-api.{REGION}.amazonaws.com",
        request_id="Ux7pLhGqjoEEJ3Q=", source_ip="198.51.100.23",
        authorizer={"jwt": {"claims": {"iss": "https://issuer.example.org",
                                       "sub": "ops-tester", "aud": "s3opstore"},
                            "scopes": ["ops.read", "ops.write"]}},
        authentication={"clientCert": {
            "clientCertPem": "-----BEGIN CERTIFICATE-----\nTUlJQ2VzdHM=\n"
                             "-----END CERTIFICATE-----",
            "issuerDN": "CN=s3opstore test CA,O=Example Org",
            "serialNumber": "1a:2b:3c:4d:5e:6f",
            "subjectDN": "CN=ops-tester,O=Example Org",
            "validity": {"notAfter": "Nov 14 00:00:00 2027 GMT",
                         "notBefore": "Nov 14 00:00:00 2026 GMT"},
        }})
    if stage != "$default":
        event["stageVariables"] = {"storeLabel": "tests"}
    return event


def function_url_event(method: str = "GET", route: str = "/v1/list_ops", body: Any = None, *,
                       b64: bool = False) -> dict[str, Any]:
    """A Lambda function URL event (``AWS_IAM`` auth); function URLs have no named stage."""
    url_id = "q2w7e5r9t3y8u1i6o4p0a2s5d8f3g7h1"
    return _v2_event(
        method, route, body, stage="$default", b64=b64, api_id=url_id,
        host=f"{url_id}.lambda-url.{REGION}.on.aws",
        request_id="7d3e9b1f-2a4c-4f6e-8b0d-5c7a9e1f3b24", source_ip="203.0.113.58",
        authorizer={"iam": {"accessKey": "AKIAEXAMPLETESTKEY01",
                            "accountId": ACCOUNT,
                            "callerId": "AIDAEXAMPLETESTCALLER",
                            "cognitoIdentity": None,
                            "principalOrgId": None,
                            "userArn": f"arn:aws:iam::{ACCOUNT}:user/ops-tester",
                            "userId": "AIDAEXAMPLETESTCALLER"}},
        authentication=None)


SHAPES = ("function_url", "http_api", "rest_api")


def event(shape: str, method: str = "GET", route: str = "/v1/list_ops", body: Any = None, *,
          stage: str = "$default", b64: bool = False) -> dict[str, Any]:
    """The event of ``shape``; function URLs have only ``$default``, so ``stage`` must be it."""
    if shape == "rest_api":
        return rest_api_event(method, route, body, stage=stage, b64=b64)
    if shape == "http_api":
        return http_api_event(method, route, body, stage=stage, b64=b64)
    if shape == "function_url" and stage == "$default":
        return function_url_event(method, route, body, b64=b64)
    raise ValueError(f"no {shape} event with stage {stage!r}")
