"""Hostile requests to the served API: each refused with a JSON error, nothing written."""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from s3opstore.api.server import Server, make_server
from s3opstore.api.wsgi import Guard, make_app
from s3opstore.errors import ConfigurationError
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore

V1 = Version.from_parts(b"model", creation_time=datetime(2020, 1, 1))
ORIGINAL = b"original pickle"


@pytest.fixture
def store(tmp_path: Path) -> OpStore:
    store = OpStore(LocalStore(tmp_path / "store"))
    store.register_valid_link(None, "model", V1)
    store.save_op_bytes("model", V1, ORIGINAL)
    return store


def _run(server: Server) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def url(store: OpStore) -> Iterator[str]:
    yield from _run(make_server(store, guard=Guard(token="sesame", hosts=frozenset(
        {"opstore.internal"}))))


def _overwrite_body(data: bytes = b"evil pickle") -> str:
    return json.dumps({"op_name": "model", "version": str(V1),
                       "bytes": base64.b64encode(data).decode()})


def _unchanged(store: OpStore) -> None:
    assert store.load_op_bytes("model", V1) == ORIGINAL
    assert store.list_pipelines() == []


def _raw(url: str, request: bytes) -> tuple[int, dict[str, Any], bytes]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):  # each refusal closes the connection
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


AUTH = {"Authorization": "Bearer sesame"}


def test_a_web_page_cannot_overwrite_op_bytes(url: str, store: OpStore) -> None:
    # fetch(url, {method: "POST", mode: "no-cors", body}) from any page: text/plain + Origin
    page = requests.post(url + "/v1/save_op_bytes", data=_overwrite_body(), timeout=10,
                         headers={"Content-Type": "text/plain;charset=UTF-8",
                                  "Origin": "https://evil.example", **AUTH})
    assert (page.status_code, page.json()["error"]["type"]) == (403, "cross_origin")
    assert "Access-Control-Allow-Origin" not in page.headers
    # even as JSON, an Origin is refused; without Origin, text/plain is refused
    as_json = requests.post(url + "/v1/save_op_bytes", data=_overwrite_body(), timeout=10,
                            headers={"Content-Type": "application/json",
                                     "Origin": "null", **AUTH})
    assert as_json.status_code == 403
    plain = requests.post(url + "/v1/save_op_bytes", data=_overwrite_body(), timeout=10,
                          headers={"Content-Type": "text/plain", **AUTH})
    assert (plain.status_code, plain.json()["error"]["type"]) == (415,
                                                                  "unsupported_media_type")
    assert "'text/plain'" in plain.json()["error"]["message"]
    _unchanged(store)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "opstore.internal.evil",
                                  ""])
def test_foreign_host_is_refused(url: str, store: OpStore, host: str) -> None:
    port = url.rsplit(":", 1)[1]
    request = (f"POST /v1/save_op_bytes HTTP/1.1\r\nHost: {host}\r\n"
               f"Content-Type: application/json\r\nAuthorization: Bearer sesame\r\n"
               f"Connection: close\r\nContent-Length: {len(_overwrite_body())}\r\n\r\n"
               f"{_overwrite_body()}").encode()
    status, headers, body = _raw(url, request)
    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["type"] == "forbidden_host"
    _unchanged(store)
    assert port  # the same server answers allowed names:
    for allowed in ("localhost", f"127.0.0.1:{port}", "opstore.internal:80", "[::1]"):
        ok = requests.post(url + "/v1/pipeline_exists", json={"pipeline_name": "p"},
                           headers={"Host": allowed}, timeout=10)
        assert ok.status_code == 200, allowed


def test_writes_need_the_token_reads_do_not(url: str, store: OpStore) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "sesame"},
                    {"Authorization": "Basic c2VzYW1l"}):
        refused = requests.post(url + "/v1/save_op_bytes", data=_overwrite_body(),
                                headers={"Content-Type": "application/json", **headers},
                                timeout=10)
        assert (refused.status_code, refused.json()["error"]["type"]) == (401, "unauthorized")
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    _unchanged(store)
    read = requests.post(url + "/v1/get_all_versions_of_op", json={"desired_op_name": "model"},
                         timeout=10)
    assert read.json()["all_versions"] == [str(V1)]
    ok = requests.post(url + "/v1/save_op_bytes", data=_overwrite_body(b"new"),
                       headers={"Content-Type": "application/json", **AUTH}, timeout=10)
    assert ok.status_code == 200
    assert store.load_op_bytes("model", V1) == b"new"


def _framed(extra_headers: str, body: bytes) -> bytes:
    return (b"POST /v1/register_new_pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer sesame\r\n"
            + extra_headers.encode() + b"\r\n" + body)


PIPE = b'{"pipeline_name": "smuggled", "last_op_name": "op"}'


@pytest.mark.parametrize("request_bytes", [
    # TE and CL together: a proxy reading the length would see a second request
    _framed(f"Content-Length: {len(PIPE)}\r\nTransfer-Encoding: chunked\r\n",
            b"%x\r\n" % len(PIPE) + PIPE + b"\r\n0\r\n\r\n"),
    _framed(f"Transfer-Encoding: chunked\r\nContent-Length: {len(PIPE)}\r\n",
            b"%x\r\n" % len(PIPE) + PIPE + b"\r\n0\r\n\r\n"),
    _framed(f"Content-Length: +{len(PIPE)}\r\n", PIPE),
    _framed(f"Content-Length: 0_{len(PIPE)}\r\n", PIPE),
    _framed(f"Content-Length: {len(PIPE)}\r\nContent-Length: {len(PIPE)}\r\n", PIPE),
    _framed(f"Content-Length: {len(PIPE)}, {len(PIPE)}\r\n", PIPE),
    _framed(f"Content-Length: -{len(PIPE)}\r\n", PIPE),
    _framed("Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
    b"GARBAGE\r\n\r\n",
    b"POST /v1/register_new_pipeline HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST /v1/register_new_pipeline HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
], ids=["cl-then-te", "te-then-cl", "plus", "underscore", "repeated", "list", "negative",
        "gzip-te", "garbage-line", "bad-line", "bad-header"])
def test_ambiguous_framing_is_refused_as_json(url: str, store: OpStore,
                                              request_bytes: bytes) -> None:
    status, headers, body = _raw(url, request_bytes)
    assert 400 <= status < 600 and status != 500
    assert headers["Content-Type"] == "application/json"
    assert headers["Connection"] == "close"
    assert set(json.loads(body)["error"]) == {"type", "message"}
    _unchanged(store)
    assert not store.pipeline_exists("smuggled")


def test_oversized_body_is_refused_unread_as_json(store: OpStore) -> None:
    for server_url in _run(make_server(store, max_body_bytes=2 * 1024 * 1024)):
        status, _, body = _raw(server_url, b"POST /v1/save_op_bytes HTTP/1.1\r\n"
                                     b"Host: 127.0.0.1\r\nContent-Length: 999999999\r\n\r\n{")
        assert status == 413
        error = json.loads(body)["error"]
        assert error["type"] == "payload_too_large"
        assert "--max-body-bytes" in error["message"]
    _unchanged(store)


def _call(app: Any, peer: str, path: str = "/v1/save_op_bytes") -> tuple[str, dict[str, Any]]:
    body = _overwrite_body().encode()
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    answer = b"".join(app({"REQUEST_METHOD": "POST", "PATH_INFO": path, "REMOTE_ADDR": peer,
                           "HTTP_HOST": "10.0.0.5:8080", "CONTENT_TYPE": "application/json",
                           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)},
                          start_response))
    return seen["status"], json.loads(answer)


def test_client_network_allow_list_for_credential_less_workers(store: OpStore) -> None:
    app = make_app(store, guard=Guard(networks=(ipaddress.ip_network("10.0.0.0/16"),)))
    status, answer = _call(app, "192.168.1.20")
    assert status.startswith("403") and answer["error"]["type"] == "forbidden_client"
    assert "192.168.1.20" in answer["error"]["message"]
    status, _ = _call(app, "10.1.0.1")
    assert status.startswith("403")
    _unchanged(store)
    status, answer = _call(app, "10.0.3.4")  # a worker: no credentials, no change to Chariots
    assert (status, answer) == ("200 OK", {})
    assert store.load_op_bytes("model", V1) == b"evil pickle"
    status, answer = _call(app, "127.0.0.1", "/v1/list_ops")  # loopback is always allowed:
    assert (status, answer["error"]["type"]) == ("400 Bad Request", "invalid_input")  # the body


def test_binding_beyond_loopback_needs_a_guard(store: OpStore) -> None:
    with pytest.raises(ConfigurationError, match="--allow-network"):
        make_server(store, host="0.0.0.0")
    for guard in (Guard(token="t"), Guard(networks=(ipaddress.ip_network("10.0.0.0/8"),))):
        server = make_server(store, host="0.0.0.0", guard=guard)
        server.server_close()
    make_server(store, host="0.0.0.0", allow_anyone=True).server_close()
