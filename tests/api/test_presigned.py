"""Presigned transfers against the session's real SeaweedFS: upload, commit, download."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from s3opstore.api import ApiConfig
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store
from tests.api.conftest import Api
from tests.conftest import make_store

pytestmark = pytest.mark.seaweedfs
VERSION = str(Version.from_parts(b"big-model", creation_time=datetime(2025, 2, 3, 4, 5, 6)))
BIG = 7 * 1024 * 1024  # over Lambda's 6 MB payload limit


@pytest.fixture
def api(request: pytest.FixtureRequest, tmp_path: Path, seaweed: Any) -> Api:
    store = make_store("seaweedfs", request, tmp_path)
    assert isinstance(store, S3Store)
    api = Api(OpStore(store), client=store.client, prefix=store.prefix, bucket=store.bucket)
    assert api.post("register_valid_link", {"downstream_op_name": None,
                                            "upstream_op_name": "model",
                                            "upstream_op_version": VERSION}) == (200, {})
    return api


def _upload(url: str, headers: dict[str, str], data: bytes) -> int:
    return requests.put(url, data=data, headers=headers, timeout=60).status_code


def _blob_keys(api: Api) -> list[str]:
    return [key for key in api.bucket_keys() if key.startswith(api.prefix + "/")
            and "/blobs/" in key]


def _upload_keys(api: Api) -> list[str]:
    return [key for key in api.bucket_keys() if key.startswith(api.prefix + "/")
            and "/uploads/" in key]


def test_upload_commit_download_round_trip(api: Api) -> None:
    data = os.urandom(BIG)
    sha = hashlib.sha256(data).hexdigest()
    body = {"op_name": "model", "version": VERSION, "sha256": sha, "size": len(data)}
    status, ticket = api.post("presign_upload", body)
    assert status == 200, ticket
    assert ticket["method"] == "PUT" and ticket["exists"] is False
    assert re.fullmatch(r"ops/model/uploads/[0-9a-f]{32}", ticket["upload_key"])
    checksum = base64.b64encode(bytes.fromhex(sha)).decode()
    assert ticket["headers"] == {"If-None-Match": "*", "x-amz-checksum-sha256": checksum}
    query = parse_qs(urlsplit(ticket["url"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4, not SigV2
    assert "if-none-match" in query["X-Amz-SignedHeaders"][0]
    assert "x-amz-checksum-sha256" in query["X-Amz-SignedHeaders"][0]
    assert _upload(ticket["url"], ticket["headers"], data) == 200
    assert _blob_keys(api) == []  # a URL never points at a content address

    commit = {**body, "upload_key": ticket["upload_key"]}
    status, committed = api.post("commit_upload", commit, {"Idempotency-Key": "commit-1"})
    assert (status, committed) == (200, {"op_name": "model", "op_version": VERSION,
                                         "sha256": sha, "size": len(data)})
    assert _blob_keys(api) == [f"{api.prefix}/ops/model/blobs/sha256/{sha}"]
    assert _upload_keys(api) == []  # the staging key is gone
    # Committing again (a retried request whose answer was lost) is harmless, even though
    # the staging key is gone by now.
    assert api.post("commit_upload", commit, {"Idempotency-Key": "commit-1"})[0] == 200
    assert api.post("commit_upload", commit)[0] == 200
    assert api.post("commit_upload", body, {"Idempotency-Key": "commit-1"})[0] == 200
    assert api.store.load_op_bytes("model", VERSION) == data

    # Too large for one JSON answer: the API points at the presigned download.
    status, error = api.post("get_op_bytes_for_version",
                             {"desired_op_name": "model", "version": VERSION})
    assert (status, error["error"]["type"]) == (413, "response_too_large")
    status, link = api.post("presign_download", {"op_name": "model", "version": VERSION,
                                                 "expires_in": 60})
    assert status == 200
    assert (link["sha256"], link["size"], link["expires_in"]) == (sha, len(data), 60)
    fetched = requests.get(link["url"], timeout=60)
    assert fetched.status_code == 200 and fetched.content == data

    # A second ticket's URL refuses other bytes (BadDigest). ``exists`` stays false here: a
    # multipart copy leaves S3 a composite checksum, which proves nothing without the bytes
    # (small blobs: test_a_url_holder_cannot_touch_bytes_already_bound).
    status, again = api.post("presign_upload", body)
    assert (status, again["exists"]) == (200, False)
    assert _upload(again["url"], again["headers"], b"x" * len(data)) == 400
    assert api.store.load_op_bytes("model", VERSION) == data


def test_forged_bytes_are_refused_and_never_reach_a_content_address(api: Api) -> None:
    genuine = b"genuine model bytes"
    forged = b"forged! model bytes"
    assert len(genuine) == len(forged)
    sha = hashlib.sha256(genuine).hexdigest()
    body = {"op_name": "model", "version": VERSION, "sha256": sha, "size": len(genuine)}
    _, ticket = api.post("presign_upload", body)
    commit = {**body, "upload_key": ticket["upload_key"]}
    # With the signed headers sent, the server itself refuses the forged body (BadDigest).
    assert _upload(ticket["url"], ticket["headers"], forged) == 400
    # SeaweedFS 4.48 does not insist on the headers a presigned URL signs: without them the
    # forgery lands, but only at the private staging key. commit_upload proves and refuses.
    assert _upload(ticket["url"], {}, forged) == 200
    status, error = api.post("commit_upload", commit)
    assert (status, error["error"]["type"]) == (422, "integrity")
    assert "nothing was bound" in error["error"]["message"]
    assert _blob_keys(api) == []
    status, error = api.post("presign_download", {"op_name": "model", "version": VERSION})
    assert (status, error["error"]["type"]) == (404, "bytes_not_found")
    # A commit cannot name any key but an upload of that op.
    for key in (f"ops/model/blobs/sha256/{sha}", "ops/other/uploads/" + "0" * 32,
                "ops/model/uploads/../../x", "pipelines/p.json"):
        status, error = api.post("commit_upload", {**body, "upload_key": key})
        assert (status, error["error"]["type"]) == (400, "invalid_input"), key
    # The genuine bytes, uploaded on a new ticket, are committed and load.
    _, ticket = api.post("presign_upload", body)
    assert _upload(ticket["url"], ticket["headers"], genuine) == 200
    assert api.post("commit_upload", {**body, "upload_key": ticket["upload_key"]})[0] == 200
    assert api.store.load_op_bytes("model", VERSION) == genuine


def test_a_url_holder_cannot_touch_bytes_already_bound(api: Api) -> None:
    """The old design's hole: on a store that ignores signed headers, a PUT to the content
    address replaced genuine, bound bytes. A URL is now for a staging key only."""
    genuine = os.urandom(1024)
    sha = hashlib.sha256(genuine).hexdigest()
    api.store.save_op_bytes("model", VERSION, genuine)
    body = {"op_name": "model", "version": VERSION, "sha256": sha, "size": len(genuine)}
    _, ticket = api.post("presign_upload", body)
    assert ticket["exists"] is True
    assert _upload(ticket["url"], {}, os.urandom(1024)) == 200  # lands in staging only
    assert api.store.load_op_bytes("model", VERSION) == genuine
    status, _ = api.post("commit_upload", {**body, "upload_key": ticket["upload_key"]})
    assert status == 422
    assert api.post("commit_upload", body)[0] == 200  # exists: commit without uploading
    assert api.store.load_op_bytes("model", VERSION) == genuine


def test_commit_checks_presence_size_and_registration(api: Api) -> None:
    data = b"some bytes"
    sha = hashlib.sha256(data).hexdigest()
    body = {"op_name": "model", "version": VERSION, "sha256": sha, "size": len(data)}
    status, error = api.post("commit_upload", body)
    assert (status, error["error"]["type"]) == (404, "bytes_not_found")
    _, ticket = api.post("presign_upload", body)
    assert _upload(ticket["url"], ticket["headers"], data) == 200
    commit = {**body, "upload_key": ticket["upload_key"]}
    status, error = api.post("commit_upload", {**commit, "size": len(data) + 1})
    assert (status, error["error"]["type"]) == (422, "integrity")
    assert _upload_keys(api) == [f"{api.prefix}/{ticket['upload_key']}"]  # kept for a retry
    other = str(Version.from_parts(b"unregistered"))
    status, error = api.post("commit_upload", {**commit, "version": other})
    assert (status, error["error"]["type"]) == (404, "version_not_found")
    status, error = api.post("presign_upload", {**body, "op_name": "ghost"})
    assert (status, error["error"]["type"]) == (404, "op_not_found")
    status, error = api.post("presign_upload", {**body, "sha256": "ABC"})
    assert (status, error["error"]["type"]) == (400, "invalid_input")
    assert api.post("commit_upload", commit)[0] == 200


def test_expiry_defaults_and_bounds(api: Api) -> None:
    api.config = ApiConfig(presign_expires=123)
    sha = hashlib.sha256(b"").hexdigest()
    body = {"op_name": "model", "version": VERSION, "sha256": sha, "size": 0}
    status, ticket = api.post("presign_upload", body)
    assert (status, ticket["expires_in"]) == (200, 123)
    assert parse_qs(urlsplit(ticket["url"]).query)["X-Amz-Expires"] == ["123"]
    for bad in (0, 7 * 24 * 3600 + 1, "60", 1.5):
        status, error = api.post("presign_upload", {**body, "expires_in": bad})
        assert (status, error["error"]["type"]) == (400, "invalid_input"), bad


def test_the_documented_upload_snippet_runs_as_written(
        request: pytest.FixtureRequest, tmp_path: Path, seaweed: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/http-api.md's Python example, verbatim, against a real server over SeaweedFS."""
    import threading

    from s3opstore.api.server import make_server

    doc = (Path(__file__).parents[2] / "docs" / "http-api.md").read_text()
    section = doc[doc.index("## Large blobs: the presigned flow"):]
    start = section.index("```python\n") + len("```python\n")
    snippet = section[start:section.index("\n```", start)]
    assert "commit_upload" in snippet
    store = OpStore(make_store("seaweedfs", request, tmp_path))
    version = str(Version.from_parts(b"documented"))
    store.register_version("clf", version)
    data = os.urandom(200_000)
    (tmp_path / "model.pkl").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    server = make_server(store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        exec(snippet, {"version": version, "url": url})  # the doc's own code, as written
        assert store.load_op_bytes("clf", version) == data
        exec(snippet, {"version": version, "url": url})  # again: `exists`, no upload
        assert store.load_op_bytes("clf", version) == data
    finally:
        server.shutdown()
        server.server_close()
