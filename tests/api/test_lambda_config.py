"""Every environment setting the Lambda reads: a bad value is an answer, never a raise.

Each invalid value must give, on every invocation, a 500 ``misconfigured``
whose one-line message names the variable and the value; fixing the setting
takes effect on the next invocation (nothing broken is cached).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3opstore import lambda_handler
from s3opstore.api.config import ENV_MAX_BODY_BYTES, MIN_BODY_BYTES, api_config, store_url
from s3opstore.api.types import DEFAULT_MAX_BODY_BYTES
from s3opstore.errors import ConfigurationError
from s3opstore.stores.s3 import default_client

EVENT = {"httpMethod": "POST", "path": "/v1/list_ops", "body": "{}", "headers": {},
         "requestContext": {"stage": "prod"}}
GOOD = {"S3OPSTORE_URL": "memory://", "AWS_DEFAULT_REGION": "us-east-1"}

# (variable, value, text the message must show)
INVALID = [
    ("S3OPSTORE_MAX_BODY_BYTES", "6MB", "'6MB'"),
    ("S3OPSTORE_MAX_BODY_BYTES", "6 MiB", "'6 MiB'"),
    ("S3OPSTORE_MAX_BODY_BYTES", "-1", "'-1'"),
    ("S3OPSTORE_MAX_BODY_BYTES", "0", "'0'"),
    ("S3OPSTORE_MAX_BODY_BYTES", "6e6", "'6e6'"),
    ("S3OPSTORE_MAX_BODY_BYTES", "1_000_000", "'1_000_000'"),
    ("S3OPSTORE_MAX_BODY_BYTES", str(MIN_BODY_BYTES - 1), str(MIN_BODY_BYTES - 1)),
    ("S3OPSTORE_MAX_BODY_BYTES", "9" * 400, "9" * 60),
    ("S3OPSTORE_URL", "", "S3OPSTORE_URL is not set"),
    ("S3OPSTORE_URL", "   ", "S3OPSTORE_URL is not set"),
    ("S3OPSTORE_URL", "s3://", "'s3://'"),
    ("S3OPSTORE_URL", "ftp://host/x", "'ftp://host/x'"),
    ("AWS_ENDPOINT_URL_S3", "not a url", "'not a url'"),
    ("AWS_ENDPOINT_URL", "http://[::1", "'http://[::1'"),
    ("AWS_DEFAULT_REGION", "no such region!", "'no such region!'"),
]


def _invoke() -> tuple[int, dict[str, Any]]:
    result = lambda_handler.handler(EVENT, None)
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("S3OPSTORE_URL", ENV_MAX_BODY_BYTES, "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(lambda_handler, "_CONTAINER", None)
    return monkeypatch


@pytest.mark.parametrize(("name", "value", "shown"), INVALID,
                         ids=[f"{n}={v[:12]!r}" for n, v, _ in INVALID])
def test_each_invalid_setting_is_a_misconfigured_answer(env: pytest.MonkeyPatch, name: str,
                                                        value: str, shown: str) -> None:
    if name.startswith("AWS_"):
        env.setenv("S3OPSTORE_URL", "s3://bucket/prefix")  # only S3 URLs build a client
    env.setenv(name, value)
    for _ in range(2):  # every invocation, not only the cold start
        status, body = _invoke()
        assert status == 500
        error = body["error"]
        assert error["type"] == "misconfigured"
        assert name in error["message"] and shown in error["message"]
        assert "\n" not in error["message"]
    env.setenv(name, GOOD.get(name, "67584" if name == ENV_MAX_BODY_BYTES else ""))
    if name.startswith("AWS_"):
        env.setenv("S3OPSTORE_URL", "memory://")
        env.delenv(name)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert _invoke() == (200, {"ops": []})


@pytest.mark.parametrize(("raw", "limit"), [
    (None, DEFAULT_MAX_BODY_BYTES), ("", DEFAULT_MAX_BODY_BYTES),
    (str(MIN_BODY_BYTES), MIN_BODY_BYTES), (" 6291456\n", 6291456), ("100000", 100000),
])
def test_valid_body_limits(raw: str | None, limit: int) -> None:
    config = api_config({} if raw is None else {ENV_MAX_BODY_BYTES: raw})
    assert config.max_body_bytes == limit
    assert config.max_response_bytes == limit - 64 * 1024
    assert config.max_response_bytes >= 2048


def test_readers_raise_only_configuration_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        api_config({ENV_MAX_BODY_BYTES: "x" * 10_000})
    assert len(info.value.message) < 300  # a huge value is shown cut, still one line
    with pytest.raises(ConfigurationError):
        store_url({})
    assert store_url({"S3OPSTORE_URL": "s3://b/p"}) == "s3://b/p"


def test_client_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "::nope::")
    with pytest.raises(ConfigurationError) as info:
        default_client()
    assert "AWS_ENDPOINT_URL_S3='::nope::'" in info.value.message
