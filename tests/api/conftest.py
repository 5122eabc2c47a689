"""Fixtures for the HTTP API tests: an OpStore on moto's in-process S3 and a caller."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from s3opstore.api import ApiConfig, ApiRequest, ApiResponse, handle
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store

BUCKET = "mock-bucket"


@dataclass
class Api:
    """Calls ``handle`` the way an adapter would; keeps the bucket at hand."""

    store: OpStore
    client: Any
    prefix: str
    config: ApiConfig | None = None
    bucket: str = BUCKET

    def raw(self, method: str, path: str, body: bytes = b"",
            headers: dict[str, str] | None = None) -> ApiResponse:
        return handle(ApiRequest(method, path, headers or {}, body), self.store, self.config)

    def post(self, name: str, body: Any, headers: dict[str, str] | None = None
             ) -> tuple[int, Any]:
        response = self.raw("POST", f"/v1/{name}", json.dumps(body).encode(), headers)
        assert response.headers["Content-Type"] == "application/json"
        return response.status, json.loads(response.body)

    def bucket_keys(self) -> list[str]:
        """Every key in the whole bucket (not only under the prefix)."""
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys


@pytest.fixture
def api(moto_client: Any) -> Api:
    prefix = f"reg/{uuid.uuid4().hex[:8]}"
    return Api(OpStore(S3Store(BUCKET, prefix, client=moto_client)), moto_client, prefix)
