"""``S3Store.presign`` signs with SigV4 without touching the client the caller passed in.

The caller's client is built the way users build theirs (``boto3.client("s3")``, no
signature version named), which is exactly the client botocore presigns with SigV2.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import ACCESS_KEY, SECRET_KEY
from tests.conftest import _session_bucket


def _plain_client(endpoint: str | None) -> Any:
    """A client as a user makes one: no signature version, a region S3 still signs V2 in."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(params=["moto", "seaweedfs"])
def plain_store(request: pytest.FixtureRequest) -> Iterator[S3Store]:
    prefix = f"presign/{uuid.uuid4().hex[:10]}"
    if request.param == "moto":
        from moto import mock_aws

        with mock_aws():
            client = _plain_client(None)
            client.create_bucket(Bucket="mock-bucket")
            yield S3Store("mock-bucket", prefix, client=client)
        return
    request.applymarker(pytest.mark.seaweedfs)
    server = request.getfixturevalue("seaweed")
    yield S3Store(_session_bucket(server), prefix, client=_plain_client(server.endpoint))


def _signer_choice(client: Any) -> tuple[Any, Any]:
    """What the client's own event system answers when asked how to presign."""
    handler, answer = client.meta.events.emit_until_response(
        "choose-signer.s3.GetObject", signing_name="s3", region_name="us-east-1",
        signature_version="s3v4-query", context={})
    return handler, answer


def _own_url(client: Any, bucket: str) -> str:
    return str(client.generate_presigned_url("get_object",
                                             Params={"Bucket": bucket, "Key": "k"}))


def test_presign_leaves_the_callers_client_as_it_was(plain_store: S3Store) -> None:
    client = plain_store.client
    state, choice = dict(vars(client)), _signer_choice(client)
    assert choice[1] == "s3-query"  # the client botocore would presign with SigV2
    assert "AWSAccessKeyId=" in _own_url(client, plain_store.bucket)

    methods: tuple[Literal["GET", "PUT"], ...] = ("GET", "PUT")
    for method in methods:
        query = parse_qs(urlsplit(plain_store.presign("k", method, 60)).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"], method

    assert _signer_choice(client) == choice
    assert dict(vars(client)) == state
    assert "AWSAccessKeyId=" in _own_url(client, plain_store.bucket)  # still SigV2, its choice


def test_presigned_urls_work(plain_store: S3Store) -> None:
    put = plain_store.presign("up/obj", "PUT", 60)
    assert requests.put(put, data=b"payload", headers={"If-None-Match": "*"},
                        timeout=30).status_code == 200
    assert plain_store.get("up/obj").data == b"payload"
    got = requests.get(plain_store.presign("up/obj", "GET", 60), timeout=30)
    assert (got.status_code, got.content) == (200, b"payload")
    # the PUT URL is create-only: a second body at the same key is refused
    assert requests.put(put, data=b"other", headers={"If-None-Match": "*"},
                        timeout=30).status_code == 412
    assert plain_store.get("up/obj").data == b"payload"
