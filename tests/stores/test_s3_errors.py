"""The S3 backend's one translation point: what each call makes of a 404, a 5xx, a 412.

Two independent things per call: whether a failed request may have applied (only
writes), and what an absent object means (not found, a failed condition, or simply
"not there"). Stubbed answers, so every status is exact; moto for the real 404s.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.stub import Stubber

from s3opstore.errors import (
    ObjectNotFoundError,
    PreconditionFailedError,
    StorageAccessError,
    StorageUnavailableError,
)
from s3opstore.stores.base import IfMatch
from s3opstore.stores.s3 import S3Store
from s3opstore.stores.s3_errors import stored_crc32


@pytest.fixture
def stubbed() -> Iterator[tuple[S3Store, Stubber]]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k",
                          aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield S3Store("bucket", "p", client=client), stubber


CALLS: dict[str, tuple[str, Callable[[S3Store], object], bool]] = {
    "get": ("get_object", lambda s: s.get("k"), False),
    "head": ("head_object", lambda s: s.head("k"), False),
    "list": ("list_objects_v2", lambda s: list(s.list("ops/")), False),
    "put": ("put_object", lambda s: s.put("k", b"x", mode="create"), True),
    "delete": ("delete_object", lambda s: s.delete("k"), True),
    "delete_many": ("delete_objects", lambda s: s.delete_many(["k", "j"]), True),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_5xx_may_have_applied_only_for_writes(stubbed: tuple[S3Store, Stubber],
                                                name: str) -> None:
    store, stubber = stubbed
    operation, call, write = CALLS[name]
    stubber.add_client_error(operation, "ServiceUnavailable", http_status_code=503)
    with pytest.raises(StorageUnavailableError) as caught:
        call(store)
    assert caught.value.maybe_applied is write


@pytest.mark.parametrize(("code", "error"), [("AccessDenied", StorageAccessError),
                                             ("InternalError", StorageUnavailableError)])
def test_keys_a_batch_delete_did_not_delete_are_an_error_naming_the_first(
        stubbed: tuple[S3Store, Stubber], code: str, error: type[Exception]) -> None:
    """DeleteObjects answers 200 and lists the keys it failed: never taken as success."""
    store, stubber = stubbed
    stubber.add_response("delete_objects", {"Errors": [
        {"Key": "p/j", "Code": code, "Message": "no"}, {"Key": "p/k", "Code": code}]})
    with pytest.raises(error, match=rf"did not delete 2 of 3 keys.*first 'j': {code} no"):
        store.delete_many(["i", "j", "k"])


def test_a_batch_delete_is_one_request_per_page(moto_client: Any) -> None:
    store = S3Store("mock-bucket", f"many/{uuid.uuid4().hex[:8]}", client=moto_client)
    store.delete_page_size = 3
    sent: list[int] = []
    moto_client.meta.events.register(
        "provide-client-params.s3.DeleteObjects",
        lambda params, **_: sent.append(len(params["Delete"]["Objects"])))
    for i in range(7):
        store.put(f"k{i}", b"x")
    store.delete_many([f"k{i}" for i in range(7)])
    assert sent == [3, 3, 1]
    assert list(store.list("")) == []


def test_missing_bucket_is_an_access_error_even_for_delete(
        stubbed: tuple[S3Store, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("delete_object", "NoSuchBucket", http_status_code=404)
    with pytest.raises(StorageAccessError, match="does not exist"):
        store.delete("k")


def test_what_an_absent_object_means_per_call(moto_client: Any) -> None:
    store = S3Store("mock-bucket", f"err/{uuid.uuid4().hex[:8]}", client=moto_client)
    assert store.head("k") is None
    store.delete("k")  # already gone: done
    store.delete("k", if_match='"0"')
    with pytest.raises(ObjectNotFoundError):
        store.get("k")
    with pytest.raises(ObjectNotFoundError):
        store.download("k", io.BytesIO())
    with pytest.raises(ObjectNotFoundError) as caught:
        store.copy("k", "target")
    assert caught.value.key == "k"  # the source is what is missing
    with pytest.raises(PreconditionFailedError):  # a CAS on nothing is a failed condition
        store.put("k", b"x", mode=IfMatch('"0"'))


def test_the_callers_transfer_config_is_not_changed(moto_client: Any) -> None:
    mine = TransferConfig(max_concurrency=3)
    default = mine.max_in_memory_upload_chunks
    store = S3Store("mock-bucket", "p", client=moto_client, transfer_config=mine)
    assert mine.max_in_memory_upload_chunks == default != 4
    assert store.transfer_config.max_request_concurrency == 3  # max_concurrency's real name
    assert store.transfer_config.max_in_memory_upload_chunks == 4
    assert store.transfer_config is not mine


@pytest.mark.parametrize(("answer", "expected"), [
    ({"ChecksumCRC32": "kK4AJQ==-16"}, "90ae0025-16"),
    ({"ChecksumCRC32": "kK4AJQ=="}, "90ae0025"),
    ({"ChecksumCRC32": "kK4AJQ==-x"}, None),  # a part count that is not a number
    ({"ChecksumCRC32": "not base64!"}, None),
    ({"ChecksumCRC32": "AAAAAAAA"}, None),  # six bytes: not a CRC32
    ({}, None),
])
def test_a_stored_crc32_is_read_only_when_well_formed(answer: dict[str, str],
                                                      expected: str | None) -> None:
    """What HEAD returns decides whether a large blob is reused (D11): anything odd is
    no checksum at all, so the blob is written again rather than trusted."""
    assert stored_crc32(answer) == expected
