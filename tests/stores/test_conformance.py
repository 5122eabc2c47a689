"""Every backend runs the shipped conformance suite: only the fixtures differ."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from s3opstore.stores import LocalStore, MemoryStore, ObjectStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import MotoServer, SeaweedFS
from s3opstore.testing.store_suite import ProcessRaceSuite, StoreSuite, ThreadRaceSuite
from tests.conftest import SMALL_TRANSFERS, _session_bucket


class TestMemoryStore(StoreSuite, ThreadRaceSuite):
    @pytest.fixture
    def store(self) -> ObjectStore:
        return MemoryStore()


class TestLocalStore(StoreSuite, ThreadRaceSuite, ProcessRaceSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ObjectStore:
        return LocalStore(tmp_path / "local")

    @pytest.fixture
    def store_url(self, store: LocalStore) -> str:
        return store.url

    @pytest.fixture
    def store_env(self) -> dict[str, str]:
        return {}


class TestMotoMockStore(StoreSuite):
    """moto's in-process mock: not thread-safe, so no race tests here."""

    @pytest.fixture
    def store(self, moto_client: object) -> ObjectStore:
        return S3Store("mock-bucket", "conf", client=moto_client, transfer_config=SMALL_TRANSFERS)


class _ServerStore(StoreSuite, ThreadRaceSuite, ProcessRaceSuite):
    server_fixture = ""

    @pytest.fixture
    def server(self, request: pytest.FixtureRequest) -> SeaweedFS | MotoServer:
        return request.getfixturevalue(self.server_fixture)  # type: ignore[no-any-return]

    @pytest.fixture
    def store(self, server: SeaweedFS | MotoServer, request: pytest.FixtureRequest) -> ObjectStore:
        prefix = f"conf/{uuid.uuid4().hex[:12]}"
        return S3Store(_session_bucket(server), prefix, client=server.client(),
                       transfer_config=SMALL_TRANSFERS)

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
