"""The streamed save_op_bytes body: same answers as the in-memory path, any chunking."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore.api import ApiConfig, ApiRequest, handle, streaming
from s3opstore.api.handler import handle_save_stream
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore

V = Version.from_parts(b"m", creation_time=datetime(2020, 5, 5, 1, 2, 3))
DATA = bytes(range(256)) * 3 + b"tail!"  # 773 bytes: base64 ends with one '='
B64 = base64.b64encode(DATA).decode()


@pytest.fixture
def store(tmp_path: Path) -> OpStore:
    store = OpStore(LocalStore(tmp_path / "s"))
    store.register_valid_link(None, "model", V)
    return store


def _both(store: OpStore, body: bytes) -> tuple[tuple[int, str | None], tuple[int, str | None]]:
    request = ApiRequest("POST", "/v1/save_op_bytes", {}, body)
    small = handle(request, store)
    big = handle_save_stream(ApiRequest("POST", "/v1/save_op_bytes", {}), io.BytesIO(body),
                             len(body), store, ApiConfig())
    return (small.status, small.error_type), (big.status, big.error_type)


@pytest.mark.parametrize("chunk", [4, 8, 12, 4096])
@pytest.mark.parametrize("body", [
    json.dumps({"op_name": "model", "version": str(V), "bytes": B64}),
    json.dumps({"bytes": B64, "version": str(V), "op_name": "model"}, separators=(",", ":")),
    json.dumps({"op_name": "model", "version": str(V), "bytes": B64}).replace("/", "\\/"),
    json.dumps({"op_name": "model", "version": str(V), "bytes": B64}).replace("A", "\\u0041"),
    '\n { "op_name" : "model" ,\t"version":' + json.dumps(str(V)) + ', "bytes" : "'
    + B64 + '" }\r\n',
])
def test_valid_bodies_save_the_same_bytes(store: OpStore, monkeypatch: pytest.MonkeyPatch,
                                          chunk: int, body: str) -> None:
    monkeypatch.setattr(streaming, "CHUNK", chunk)
    response = handle_save_stream(ApiRequest("POST", "/v1/save_op_bytes", {}),
                                  io.BytesIO(body.encode()), len(body), store, ApiConfig())
    assert (response.status, response.body) == (200, b"{}")
    assert store.load_op_bytes("model", V) == DATA


BAD = [
    '{"op_name": "model", "version": "VER", "bytes": "QUJD"',  # unterminated object
    '{"op_name": "model", "version": "VER", "bytes": "QUJD"} x',  # trailing data
    '{"op_name": "model", "version": "VER", "bytes": "QUJ"}',  # length not 4k
    '{"op_name": "model", "version": "VER", "bytes": "QU=D"}',  # padding inside
    '{"op_name": "model", "version": "VER", "bytes": "QUJD!!!!"}',  # not the alphabet
    '{"op_name": "model", "version": "VER", "bytes": "QUJ\\u000a"}',  # newline escape
    '{"op_name": "model", "version": "VER", "bytes": 12}',
    '{"op_name": "model", "version": "VER"}',  # bytes missing
    '{"op_name": "model", "version": "VER", "bytes": "QUJD", "x": 1}',  # unknown field
    '{"op_name": "a\\u0000b", "version": "VER", "bytes": "QUJD"}',  # bad name (a control)
    '{"op_name": "model", "version": "nope", "bytes": "QUJD"}',  # bad version
    '["op_name"]',
    '{"op_name" "model"}',
    "",
]


@pytest.mark.parametrize("chunk", [4, 4096])
@pytest.mark.parametrize("body", BAD)
def test_bad_bodies_are_refused_like_small_ones(store: OpStore,
                                                monkeypatch: pytest.MonkeyPatch,
                                                chunk: int, body: str) -> None:
    monkeypatch.setattr(streaming, "CHUNK", chunk)
    small, big = _both(store, body.replace("VER", str(V)).encode())
    assert small[0] == 400
    assert big[0] == 400
    if small[1] in ("invalid_name", "invalid_version"):
        assert big == small
    else:
        assert big[1] == "invalid_input"
    with pytest.raises(Exception, match="bytes"):
        store.load_op_bytes("model", V)  # nothing was saved


def test_an_unregistered_version_keeps_its_404(store: OpStore) -> None:
    other = Version.from_parts(b"other", creation_time=datetime(2020, 1, 1))
    body = json.dumps({"op_name": "model", "version": str(other), "bytes": B64}).encode()
    small, big = _both(store, body)
    assert small == big == (404, "version_not_found")


def test_a_short_body_stream_is_refused(store: OpStore) -> None:
    body = json.dumps({"op_name": "model", "version": str(V), "bytes": B64}).encode()
    response = handle_save_stream(ApiRequest("POST", "/v1/save_op_bytes", {}),
                                  io.BytesIO(body[:-10]), len(body), store, ApiConfig())
    assert (response.status, response.error_type) == (400, "invalid_input")
    assert b"Content-Length" in response.body


def test_a_repeated_field_is_refused_when_streamed(store: OpStore) -> None:
    # in memory the last one wins (JSON parsers differ); streamed, the first would, so refuse
    body = ('{"op_name": "model", "version": "VER", "bytes": "QUJD", "bytes": "REVG"}'
            .replace("VER", str(V)).encode())
    response = handle_save_stream(ApiRequest("POST", "/v1/save_op_bytes", {}),
                                  io.BytesIO(body), len(body), store, ApiConfig())
    assert (response.status, response.error_type) == (400, "invalid_input")
    assert b"'bytes' appears twice" in response.body
