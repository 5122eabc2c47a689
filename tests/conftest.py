"""Shared fixtures: real servers (SeaweedFS, moto server) started once per session,
moto's in-process mock, and a parametrised ``opstore`` over every backend.

The ``S3OPSTORE_TEST_BACKENDS`` environment variable (comma-separated subset of
memory,local,moto,motoserver,seaweedfs) narrows the registry backends while
developing; CI runs them all.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from s3opstore.registry.context import forget_probes
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore, MemoryStore, ObjectStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import MotoServer, SeaweedFS

ALL_BACKENDS = ["memory", "local", "moto", "motoserver", "seaweedfs"]
SMALL_TRANSFERS = TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                 multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)


def registry_backends() -> list[str]:
    chosen = os.environ.get("S3OPSTORE_TEST_BACKENDS")
    return [b.strip() for b in chosen.split(",")] if chosen else ALL_BACKENDS


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedFS]:
    server = SeaweedFS().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_client() -> Iterator[Any]:
    """A boto3 client on moto's in-process mock (not thread-safe: no races here)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        client.create_bucket(Bucket="mock-bucket")
        yield client


@pytest.fixture(autouse=True)
def _fresh_probe_cache() -> Iterator[None]:
    forget_probes()
    yield


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """A fresh empty store of the given backend, under a unique bucket prefix."""
    prefix = f"reg/{uuid.uuid4().hex[:10]}"
    if backend == "memory":
        return MemoryStore()
    if backend == "local":
        return LocalStore(tmp_path / "store")
    if backend == "moto":
        client = request.getfixturevalue("moto_client")
        return S3Store("mock-bucket", prefix, client=client, transfer_config=SMALL_TRANSFERS)
    server = request.getfixturevalue("moto_server" if backend == "motoserver" else "seaweed")
    bucket = _session_bucket(server)
    return S3Store(bucket, prefix, client=server.client(), transfer_config=SMALL_TRANSFERS)


_BUCKETS: dict[int, str] = {}


def _session_bucket(server: Any) -> str:
    if id(server) not in _BUCKETS:
        _BUCKETS[id(server)] = server.new_bucket("s3opstore")
    return _BUCKETS[id(server)]


def store_url_and_env(backend: str, store: ObjectStore,
                      request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    if backend in ("motoserver", "seaweedfs"):
        server = request.getfixturevalue("moto_server" if backend == "motoserver" else "seaweed")
        return store.url, server.env()
    return store.url, {}


@pytest.fixture(params=registry_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def object_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return make_store(backend, request, tmp_path)


@pytest.fixture
def opstore(object_store: ObjectStore) -> OpStore:
    """An empty OpStore on each backend in turn."""
    return OpStore(object_store)
