"""The served API in process: real HTTP requests, shaped exactly as Chariots' client sends them."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from s3opstore.api import ApiConfig
from s3opstore.api.server import make_server
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore


class ChariotsStyleClient:
    """What Chariots' OpStoreClient does on the wire: post, require 200, parse, falsy -> None."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, route: str, body: dict[str, Any]) -> Any:
        response = requests.post(self.url + route, data=json.dumps(body),
                                 headers={"Content-Type": "application/json"}, timeout=10)
        if response.status_code != 200:
            raise ValueError(f"{route}: {response.status_code} {response.text}")
        return response.json()

    def get_all_versions_of_op(self, op: str) -> set[Version] | None:
        answer = self._post("/v1/get_all_versions_of_op", {"desired_op_name": op})
        return {Version.parse(v) for v in answer["all_versions"]} if answer else None

    def get_validated_links(self, downstream: str, upstream: str) -> set[Version] | None:
        answer = self._post("/v1/get_validated_links",
                            {"downstream_op_name": downstream, "upstream_op_name": upstream})
        return {Version.parse(v) for v in answer["upstream_versions"]} if answer else None

    def get_op_bytes_for_version(self, op: str, version: Version) -> bytes:
        answer = self._post("/v1/get_op_bytes_for_version",
                            {"desired_op_name": op, "version": str(version)})
        return base64.b64decode(answer["bytes"].encode("utf-8"))

    def save_op_bytes(self, op: str, version: Version, op_bytes: bytes) -> None:
        self._post("/v1/save_op_bytes", {"op_name": op, "version": str(version),
                                         "bytes": base64.b64encode(op_bytes).decode("utf-8")})

    def register_valid_link(self, downstream: str | None, upstream: str,
                            version: Version) -> None:
        self._post("/v1/register_valid_link", {"downstream_op_name": downstream,
                                               "upstream_op_name": upstream,
                                               "upstream_op_version": str(version)})

    def pipeline_exists(self, name: str) -> bool:
        return bool(self._post("/v1/pipeline_exists", {"pipeline_name": name})["exists"])

    def register_new_pipeline(self, name: str, last_op: str) -> None:
        self._post("/v1/register_new_pipeline", {"pipeline_name": name,
                                                 "last_op_name": last_op})


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    store = OpStore(LocalStore(tmp_path / "store"))
    server = make_server(store, config=ApiConfig(max_body_bytes=64 * 1024),
                         max_body_bytes=2 * 1024 * 1024)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_binds_loopback_by_default(server_url: str) -> None:
    assert server_url.startswith("http://127.0.0.1:")


def test_chariots_client_flow_over_http(server_url: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    client = ChariotsStyleClient(server_url)
    v_pca = Version.from_parts(b"pca", creation_time=datetime(2020, 1, 1, 10, 0, 0))
    v_clf = Version.from_parts(b"clf", creation_time=datetime(2020, 1, 1, 10, 0, 0, 123456))
    assert client.pipeline_exists("iris") is False
    client.register_new_pipeline("iris", "clf")
    assert client.pipeline_exists("iris") is True
    assert client.get_all_versions_of_op("clf") is None
    client.register_valid_link("clf", "pca", v_pca)
    client.register_valid_link(None, "clf", v_clf)
    client.save_op_bytes("pca", v_pca, b"pca-bytes")
    client.save_op_bytes("clf", v_clf, b"\x00" * 1000)
    versions = client.get_all_versions_of_op("clf")
    assert versions == {v_clf}
    assert {str(v) for v in versions or ()} == {str(v_clf)}  # hash-compatible: same strings
    assert client.get_validated_links("clf", "pca") == {v_pca}
    assert client.get_validated_links("pca", "clf") is None
    assert client.get_op_bytes_for_version("clf", v_clf) == b"\x00" * 1000
    with pytest.raises(ValueError, match="404"):
        client.save_op_bytes("unknown", v_pca, b"x")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
             if line.startswith("{")]
    assert len(lines) == 13  # one per request
    assert lines[-1]["route"] == "save_op_bytes" and lines[-1]["status"] == 404
    assert "pca-bytes" not in json.dumps(lines)


def test_http_errors(server_url: str) -> None:
    response = requests.post(server_url + "/v1/save_op_bytes", data="{nope",
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_input"
    response = requests.get(server_url + "/v1/list_ops", timeout=10)
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")
    response = requests.post(server_url + "/v2/anything", data="{}", timeout=10)
    assert (response.status_code, response.json()["error"]["type"]) == (404, "unknown_route")
    response = requests.post(server_url + "/v1/list_ops?debug=1", data="", timeout=10)
    assert response.json() == {"ops": []}
    response = requests.post(server_url + "/v1/save_op_bytes", data="x" * 70_000,
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert (response.status_code, response.json()["error"]["type"]) == (413,
                                                                        "payload_too_large")
    response = requests.post(server_url + "/v1/list_ops", data=iter([b"{}"]), timeout=10)
    assert (response.status_code, response.json()) == (200, {"ops": []})  # chunked, de-chunked


def test_oversized_content_length_is_refused_unread(server_url: str) -> None:
    host, port = server_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /v1/save_op_bytes HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 999999999\r\n\r\n{")
        chunks = []
        while chunk := sock.recv(4096):  # the server closes after answering
            chunks.append(chunk)
        reply = b"".join(chunks).decode()
    assert reply.startswith("HTTP/1.1 413")
    assert "payload_too_large" in reply
