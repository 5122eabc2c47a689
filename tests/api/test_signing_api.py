"""The HTTP API with trusted keys: untrusted bytes are a 403 on every route that hands
bytes out, and a presigned upload is committed with the client's own signature (D15)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from s3opstore import OpStore, Version
from s3opstore.api import ApiConfig, handle
from s3opstore.api.handler import handle_op_bytes_stream
from s3opstore.api.types import ApiRequest, ApiResponse
from s3opstore.models.keys import bytes_prefix
from s3opstore.stores import MemoryStore
from s3opstore.stores.s3 import S3Store
from s3opstore.trust import SigningKey, TrustedKeys, sign_upload
from tests.api.conftest import Api
from tests.conftest import make_store
from tests.trust.attacks import ATTACKS, GENUINE, OP, SIGNED, TARGET, stage


def _post(store: OpStore, route: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = handle(ApiRequest("POST", f"/v1/{route}", {}, orjson.dumps(body)), store)
    return response.status, orjson.loads(response.body)


def _refusal(status: int, body: Any, key_id: str | None) -> None:
    assert (status, body["error"]["type"]) == (403, "untrusted_bytes"), body
    assert (key_id or "unsigned") in body["error"]["message"]
    assert str(TARGET) in body["error"]["message"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_served_bytes_are_refused(attack: str) -> None:
    base = MemoryStore()
    scene = stage(base, attack)
    request = {"desired_op_name": OP, "version": str(TARGET)}
    status, body = _post(OpStore(base), "get_op_bytes_for_version", request)
    assert status == 200 and base64.b64decode(body["bytes"]) == scene.attack_bytes
    server = OpStore(base, trusted_keys=scene.trusted)
    _refusal(*_post(server, "get_op_bytes_for_version", request), scene.refused_key_id)
    streamed = handle_op_bytes_stream(  # the served (WSGI) face's streamed answer
        ApiRequest("POST", "/v1/get_op_bytes_for_version", {}, orjson.dumps(request)), server,
        ApiConfig())
    assert isinstance(streamed, ApiResponse)
    _refusal(streamed.status, orjson.loads(streamed.body), scene.refused_key_id)
    status, body = _post(server, "get_op_bytes_for_version",
                         {"desired_op_name": OP, "version": str(SIGNED)})
    assert status == 200 and base64.b64decode(body["bytes"]) == GENUINE
    # The browse routes show who signed and whether the server trusts it, without refusing.
    status, page = _post(server, "browse_version", {"op_name": OP, "version": str(TARGET)})
    assert status == 200, page
    assert page["bytes"]["signed_by"] == scene.refused_key_id
    assert page["bytes"]["trusted"] is False


def test_presign_download_is_refused(api: Api) -> None:
    scene = stage(api.store.store, "stranger")
    server = OpStore(api.store.store, trusted_keys=scene.trusted)
    status, body = _post(server, "presign_download", {"op_name": OP, "version": str(TARGET)})
    _refusal(status, body, scene.refused_key_id)
    status, link = _post(server, "presign_download", {"op_name": OP, "version": str(SIGNED)})
    assert status == 200 and link["sha256"] == hashlib.sha256(GENUINE).hexdigest()


def test_a_signing_server_signs_what_it_saves() -> None:
    key = SigningKey.generate()
    server = OpStore(MemoryStore(), signer=key, trusted_keys=TrustedKeys.of(key))
    server.register_version(OP, SIGNED)
    body = {"op_name": OP, "version": str(SIGNED), "bytes": base64.b64encode(b"w").decode()}
    assert _post(server, "save_op_bytes", body) == (200, {})
    assert server.op_bytes_info(OP, SIGNED).signer == key.key_id
    status, page = _post(server, "browse_version", {"op_name": OP, "version": str(SIGNED)})
    assert status == 200
    assert (page["bytes"]["signed_by"], page["bytes"]["trusted"]) == (key.key_id, True)


@pytest.mark.seaweedfs
def test_a_presigned_upload_commits_with_the_clients_signature(
        request: pytest.FixtureRequest, tmp_path: Path, seaweed: Any) -> None:
    store = make_store("seaweedfs", request, tmp_path)
    assert isinstance(store, S3Store)
    client_key, stranger = SigningKey.generate(), SigningKey.generate()
    server = OpStore(store, trusted_keys=TrustedKeys.of(client_key))
    server.register_version(OP, SIGNED)
    data = b"weights uploaded by the client " * 1000
    sha = hashlib.sha256(data).hexdigest()
    body = {"op_name": OP, "version": str(SIGNED), "sha256": sha, "size": len(data)}
    status, info = _post(server, "get_version", {"op_name": OP, "version": str(SIGNED)})
    assert status == 200

    def upload() -> str:
        status, ticket = _post(server, "presign_upload", body)
        assert status == 200, ticket
        put = requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=60)
        assert put.status_code == 200
        return str(ticket["upload_key"])

    def bindings() -> list[Any]:
        return list(store.list(bytes_prefix(OP, SIGNED)))
    # No signature, a stranger's, or ours for other bytes: 403, and nothing is bound.
    for signature in (None, sign_upload(stranger, info, sha, len(data)),
                      sign_upload(client_key, info, "0" * 64, len(data))):
        commit = {**body, "upload_key": upload(), "signature": signature}
        status, error = _post(server, "commit_upload", commit)
        assert (status, error["error"]["type"]) == (403, "untrusted_bytes"), error
        assert bindings() == []
    signature = sign_upload(client_key, info, sha, len(data))
    status, done = _post(server, "commit_upload",
                         {**body, "upload_key": upload(), "signature": signature})
    assert status == 200, done
    assert server.load_op_bytes(OP, SIGNED) == data
    assert server.op_bytes_info(OP, SIGNED).signer == client_key.key_id
    status, error = _post(server, "commit_upload", {**body, "signature": {"key_id": "zz"}})
    assert (status, error["error"]["type"]) == (400, "invalid_input")


@pytest.mark.seaweedfs
def test_the_documented_signed_upload_snippet_runs_as_written(
        request: pytest.FixtureRequest, tmp_path: Path, seaweed: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/http-api.md: the upload example with the signing lines inserted before the commit."""
    import os
    import threading

    from s3opstore.api.server import make_server
    from s3opstore.trust import generate_key_files

    doc = (Path(__file__).parents[2] / "docs" / "http-api.md").read_text()

    def block(heading: str) -> str:
        section = doc[doc.index(heading):]
        start = section.index("```python\n") + len("```python\n")
        return section[start:section.index("\n```", start)]

    upload, signing = block("## Large blobs: the presigned flow"), block("### Signed uploads")
    cut = upload.index('requests.post(f"{url}/v1/commit_upload"')
    signed = upload[:cut] + signing + "\n" + upload[cut:]
    monkeypatch.chdir(tmp_path)
    key = generate_key_files("signer.key", "signer.key.pub")
    store = OpStore(make_store("seaweedfs", request, tmp_path),
                    trusted_keys=TrustedKeys.of(key))
    version = str(Version.from_parts(b"documented signed"))
    store.register_version("clf", version)
    data = os.urandom(100_000)
    (tmp_path / "model.pkl").write_bytes(data)
    server = make_server(store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(requests.HTTPError, match="403"):
            exec(upload, {"version": version, "url": url})  # unsigned: refused
        exec(signed, {"version": version, "url": url})  # the doc's own code, as written
        assert store.load_op_bytes("clf", version) == data
        assert store.op_bytes_info("clf", version).signer == key.key_id
    finally:
        server.shutdown()
        server.server_close()


def test_the_lambda_honours_trusted_keys_from_its_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from s3opstore import lambda_handler
    from s3opstore.stores import LocalStore

    scene = stage(LocalStore(tmp_path / "store"), "stranger")
    (tmp_path / "trusted.pub").write_bytes(scene.key.public_pem())
    (tmp_path / "junk.pub").write_text("not a key")
    monkeypatch.setenv("S3OPSTORE_URL", (tmp_path / "store").as_uri())
    event = {"httpMethod": "POST", "path": "/v1/get_op_bytes_for_version", "headers": {},
             "body": json.dumps({"desired_op_name": OP, "version": str(TARGET)}),
             "requestContext": {"stage": "prod"}}

    def invoke(keys: str) -> tuple[int, Any]:
        monkeypatch.setenv("S3OPSTORE_TRUSTED_KEYS", str(tmp_path / keys))
        monkeypatch.setattr(lambda_handler, "_CONTAINER", None)  # a cold start
        result = lambda_handler.handler(event, None)
        return result["statusCode"], json.loads(result["body"])

    _refusal(*invoke("trusted.pub"), scene.refused_key_id)
    status, body = invoke("junk.pub")
    assert (status, body["error"]["type"]) == (500, "misconfigured")
    assert "S3OPSTORE_TRUSTED_KEYS" in body["error"]["message"]
    assert str(tmp_path / "junk.pub") in body["error"]["message"]
