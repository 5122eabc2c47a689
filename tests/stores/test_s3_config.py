"""S3Store on real AWS semantics that no local server reproduces.

- S3 directory buckets (S3 Express One Zone, named ``base--zone-id--x-s3``) do not list
  keys in lexicographic order: they are refused when the store is opened, before any
  request.
- S3 answers 403, not 404, for a missing key to a caller without ``s3:ListBucket`` on the
  bucket: the StorageAccessError of a refused read names that rule.

No network: a client that fails on any use, or botocore's Stubber.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import botocore.session
import pytest
from botocore.stub import Stubber

from s3opstore import lambda_handler
from s3opstore.errors import InvalidInputError, StorageAccessError, UnsupportedStoreError
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import open_store
from s3opstore.stores import s3 as s3_module
from s3opstore.stores.s3 import S3Store
from tests.api.test_lambda_handler import Context, http_api_event

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DIRECTORY_BUCKETS = [
    "registry--usw2-az1--x-s3",  # Availability Zone
    "ml-ops--use1-az4--x-s3",
    "registry--usw2-lax1-az1--x-s3",  # Local Zone
]


class NoRequests:
    """A client that fails the test if anything at all is asked of it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store used its client ({name}) before refusing the bucket")


@pytest.mark.parametrize("bucket", DIRECTORY_BUCKETS)
def test_directory_bucket_refused_before_any_request(bucket: str) -> None:
    with pytest.raises(UnsupportedStoreError) as caught:
        S3Store(bucket, "registry", client=NoRequests())  # type: ignore[arg-type]
    message = str(caught.value)
    assert repr(bucket) in message
    assert "directory bucket" in message
    assert "lexicographic order" in message
    assert "general purpose" in message
    assert caught.value.kind == "unsupported_store"
    assert isinstance(caught.value, InvalidInputError)


def test_directory_bucket_refused_before_a_client_is_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(**_: Any) -> Any:
        raise AssertionError("a client was built for a refused bucket")

    monkeypatch.setattr(s3_module, "default_client", no_client)
    with pytest.raises(UnsupportedStoreError):
        S3Store(DIRECTORY_BUCKETS[0])


@pytest.mark.parametrize("url", [f"s3://{DIRECTORY_BUCKETS[0]}/registry",
                                 f"s3://{DIRECTORY_BUCKETS[2]}"])
def test_directory_bucket_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsupportedStoreError):
        open_store(url, client=NoRequests())
    with pytest.raises(UnsupportedStoreError):
        OpStore.from_url(url, client=NoRequests())


@pytest.mark.parametrize("bucket", ["my-x-s3", "registry-x-s3", "x-s3-registry",
                                    "registry--x-s3-logs", "registry--usw2-az1--x-s3a"])
def test_general_purpose_names_are_accepted(bucket: str) -> None:
    store = S3Store(bucket, "registry", client=NoRequests())  # type: ignore[arg-type]
    assert store.url == f"s3://{bucket}/registry"


def test_lambda_answers_misconfigured_for_a_directory_bucket(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3OPSTORE_URL", f"s3://{DIRECTORY_BUCKETS[0]}/registry")
    monkeypatch.setattr(lambda_handler, "_CONTAINER", None)
    monkeypatch.setattr(s3_module, "default_client", lambda **_: NoRequests())
    result = lambda_handler.handler(http_api_event("/v1/list_ops", "{}"), Context())
    assert result["statusCode"] == 500
    error = json.loads(result["body"])["error"]
    assert error["type"] == "misconfigured"
    assert "directory bucket" in error["message"]


# -- 403 on a read: name the s3:ListBucket rule --------------------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[S3Store, Stubber]]:
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        # botocore's create_client is typed as returning BaseClient; this one is an S3 client
        yield S3Store("registry-bucket", "opstore", client=cast("S3Client", client)), stubber
        stubber.assert_no_pending_responses()


def test_head_403_names_the_list_bucket_rule(stubbed: tuple[S3Store, Stubber]) -> None:
    store, stubber = stubbed
    # A HEAD has no body: S3's 403 reaches botocore as code "403", message "Forbidden".
    stubber.add_client_error("head_object", service_error_code="403",
                             service_message="Forbidden", http_status_code=403)
    with pytest.raises(StorageAccessError) as caught:
        store.head("ops/pca/head.json")
    message = str(caught.value)
    assert "s3://registry-bucket/opstore/ops/pca/head.json" in message
    assert "s3:ListBucket on bucket 'registry-bucket'" in message
    assert "403 instead of 404" in message
    assert "s3:prefix" in message


def test_get_access_denied_names_the_list_bucket_rule(stubbed: tuple[S3Store, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_object", service_error_code="AccessDenied",
                             service_message="Access Denied", http_status_code=403)
    with pytest.raises(StorageAccessError) as caught:
        store.get("ops/pca/head.json")
    assert "s3:ListBucket on bucket 'registry-bucket'" in str(caught.value)


@pytest.mark.parametrize(("operation", "code", "call"), [
    # A refused write is not a miss.
    ("put_object", "AccessDenied", lambda store: store.put("ops/pca/head.json", b"{}")),
    # Bad credentials are not a missing ListBucket.
    ("get_object", "InvalidAccessKeyId", lambda store: store.get("ops/pca/head.json")),
    ("get_object", "ExpiredToken", lambda store: store.get("ops/pca/head.json")),
    # A refused listing is plainly a missing ListBucket for that prefix; no miss involved.
    ("list_objects_v2", "AccessDenied", lambda store: list(store.list("ops/"))),
])
def test_other_refusals_carry_no_missing_key_hint(stubbed: tuple[S3Store, Stubber],
                                                  operation: str, code: str, call: Any) -> None:
    store, stubber = stubbed
    stubber.add_client_error(operation, service_error_code=code, http_status_code=403)
    with pytest.raises(StorageAccessError) as caught:
        call(store)
    message = str(caught.value)
    assert message.startswith("S3 refused access to s3://registry-bucket/opstore/")
    assert code in message
    assert "s3:ListBucket" not in message
