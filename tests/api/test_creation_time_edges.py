"""Creation times at the edges of the range, on every face of the HTTP API.

A year below 1000 is a valid time whose keys round-trip: registering one and
then more versions leaves every listing answering. An aware time whose UTC
equivalent leaves years 1..9999 is a 400 ``invalid_version`` naming it, from
``handle()``, a real HTTP request and the Lambda handler, and nothing is
written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from s3opstore import lambda_handler
from s3opstore.api import ApiRequest, handle
from s3opstore.api.server import make_server
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import MemoryStore
from s3opstore.testing.faults import WRITE_PRIMITIVES, FaultInjector

HASHES = ".".join(["a" * 40, "b" * 40, "c" * 40])
OUT_OF_RANGE = ["0001-01-01 00:30:00+01:00", "0001-01-01 00:00:00+00:01",
                "9999-12-31 23:30:00-01:00", "9999-12-31 23:59:59.999999-00:00:01"]
EDGES_IN_RANGE = ["0001-01-01 00:00:00", "0999-12-31 23:59:59", "0001-01-01 01:00:00+01:00",
                  "9999-12-31 22:00:00-01:00", "9999-12-31 23:59:59.999999"]


def _bodies(version: str) -> dict[str, dict[str, Any]]:
    return {
        "register_valid_link": {"downstream_op_name": "down", "upstream_op_name": "op",
                                "upstream_op_version": version},
        "save_op_bytes": {"op_name": "op", "version": version, "bytes": "YQ=="},
        "get_op_bytes_for_version": {"desired_op_name": "op", "version": version},
        "get_version": {"op_name": "op", "version": version},
        "set_alias": {"op_name": "op", "alias": "prod", "version": version},
    }


def _post(store: OpStore, route: str, body: Any) -> tuple[int, Any]:
    response = handle(ApiRequest("POST", f"/v1/{route}", {}, json.dumps(body).encode()), store)
    return response.status, json.loads(response.body)


@pytest.mark.parametrize("when", OUT_OF_RANGE)
def test_handle_refuses_times_outside_the_range_in_utc(when: str) -> None:
    recorder = FaultInjector(MemoryStore())
    store = OpStore(recorder)
    for route, body in _bodies(f"{HASHES}_{when}").items():
        recorder.reset()
        status, answer = _post(store, route, body)
        assert status == 400, (route, answer)
        assert answer["error"]["type"] == "invalid_version"
        assert when in answer["error"]["message"] and "UTC" in answer["error"]["message"]
        assert not [c for c in recorder.calls if c[0] in WRITE_PRIMITIVES]


def test_edge_times_register_and_every_listing_keeps_answering() -> None:
    store = OpStore(MemoryStore())
    versions = [f"{index:040x}.{'b' * 40}.{'c' * 40}_{when}"
                for index, when in enumerate(EDGES_IN_RANGE, start=1)]
    for version in versions:
        status, answer = _post(store, "register_valid_link", {
            "downstream_op_name": "down", "upstream_op_name": "op",
            "upstream_op_version": version})
        assert status == 200, answer
    versions = [str(Version.parse(v)) for v in versions]  # aware times are kept in UTC
    status, answer = _post(store, "get_all_versions_of_op", {"desired_op_name": "op"})
    assert status == 200 and answer["all_versions"] == versions
    status, answer = _post(store, "get_versions", {"op_name": "op"})
    assert status == 200 and [v["version"] for v in answer["versions"]] == versions
    assert [v["number"] for v in answer["versions"]] == ["1.0.0", "2.0.0", "3.0.0", "4.0.0",
                                                         "5.0.0"]
    status, answer = _post(store, "get_validated_links",
                           {"downstream_op_name": "down", "upstream_op_name": "op"})
    assert status == 200 and sorted(answer["upstream_versions"]) == sorted(versions)


@pytest.fixture
def server_url() -> Iterator[str]:
    server = make_server(OpStore(MemoryStore()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_answers_400_instead_of_dropping_the_connection(server_url: str) -> None:
    with requests.Session() as session:
        for when in OUT_OF_RANGE:
            response = session.post(f"{server_url}/v1/register_valid_link", timeout=10,
                                    json=_bodies(f"{HASHES}_{when}")["register_valid_link"])
            assert response.status_code == 400
            assert response.json()["error"]["type"] == "invalid_version"
        # The same connection still serves.
        response = session.post(f"{server_url}/v1/list_ops", json={}, timeout=10)
        assert response.status_code == 200 and response.json() == {"ops": []}


def test_lambda_answers_400(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3OPSTORE_URL", "memory://")
    monkeypatch.delenv("S3OPSTORE_MAX_BODY_BYTES", raising=False)
    monkeypatch.setattr(lambda_handler, "_CONTAINER", None)
    for when in OUT_OF_RANGE:
        body = json.dumps(_bodies(f"{HASHES}_{when}")["register_valid_link"])
        event = {"httpMethod": "POST", "path": "/v1/register_valid_link", "body": body,
                 "headers": {}, "requestContext": {"stage": "prod"}}
        result = lambda_handler.handler(event, None)
        assert result["statusCode"] == 400
        error = json.loads(result["body"])["error"]
        assert error["type"] == "invalid_version" and when in error["message"]
