"""Every backend runs the shipped conformance suite: only the fixtures and raw hooks differ.

The raw hooks (tests/stores/raw_hooks.py) reach each store's container past it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from s3opstore.stores import LocalStore, MemoryStore, ObjectStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import MotoServer, SeaweedFS
from s3opstore.testing.store_suite import ProcessRaceSuite, ThreadRaceSuite
from tests.conftest import _session_bucket
from tests.stores.raw_hooks import LocalRaw, MemoryRaw, S3Raw, local_store


class TestMemoryStore(MemoryRaw, ThreadRaceSuite):
    @pytest.fixture
    def store(self) -> ObjectStore:
        return MemoryStore()


class TestLocalStore(LocalRaw, ThreadRaceSuite, ProcessRaceSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ObjectStore:
        return local_store(tmp_path)

    @pytest.fixture
    def store_url(self, store: LocalStore) -> str:
        return store.url

    @pytest.fixture
    def store_env(self) -> dict[str, str]:
        return {}


class TestMotoMockStore(S3Raw):
    """moto's in-process mock: not thread-safe, so no race tests here."""

    @pytest.fixture
    def store(self, moto_client: Any) -> ObjectStore:
        return self.make("mock-bucket", moto_client)


class _ServerStore(S3Raw, ThreadRaceSuite, ProcessRaceSuite):
    server_fixture = ""

    @pytest.fixture
    def server(self, request: pytest.FixtureRequest) -> SeaweedFS | MotoServer:
        server: SeaweedFS | MotoServer = request.getfixturevalue(self.server_fixture)
        return server

    @pytest.fixture
    def store(self, server: SeaweedFS | MotoServer) -> ObjectStore:
        return self.make(_session_bucket(server), server.client())

    @pytest.fixture
    def store_url(self, store: S3Store) -> str:
        return store.url

    @pytest.fixture
    def store_env(self, server: SeaweedFS | MotoServer) -> dict[str, str]:
        return server.env()


class TestMotoServerStore(_ServerStore):
    server_fixture = "moto_server"


@pytest.mark.seaweedfs
class TestSeaweedFSStore(_ServerStore):
    server_fixture = "seaweed"
