"""Routes beyond the seed: listing, version metadata, aliases; limits and idempotency."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from s3opstore.api import ApiConfig
from s3opstore.models.version import Version
from tests.api.conftest import Api

A = Version.from_parts(b"a", creation_time=datetime(2024, 1, 1, 0, 0, 0))
A_PATCH = Version.from_parts(b"a", b"", b"p2", creation_time=datetime(2024, 1, 2, 0, 0, 0, 5))
B = Version.from_parts(b"b", creation_time=datetime(2024, 1, 3, 12, 0, 0))


def _register(api: Api, op: str, *versions: Version) -> None:
    for version in versions:
        assert api.post("register_valid_link", {
            "downstream_op_name": None, "upstream_op_name": op,
            "upstream_op_version": str(version)}) == (200, {})


def test_list_ops_and_pipelines(api: Api) -> None:
    assert api.post("list_ops", {}) == (200, {"ops": []})
    assert api.raw("POST", "/v1/list_ops", b"").status == 200  # an empty body is {}
    _register(api, "scaler", A)
    api.post("register_new_pipeline", {"pipeline_name": "p1", "last_op_name": "model"})
    assert api.post("list_ops", {}) == (200, {"ops": ["model", "scaler"]})
    assert api.post("list_pipelines", {}) == (200, {"pipelines": ["p1"]})
    status, error = api.post("list_ops", {"unexpected": 1})
    assert (status, error["error"]["type"]) == (400, "invalid_input")


def test_versions_with_numbers_and_metadata(api: Api) -> None:
    _register(api, "scaler", A, A_PATCH, B)
    status, body = api.post("get_versions", {"op_name": "scaler"})
    assert status == 200
    assert body["op_name"] == "scaler"
    rows = body["versions"]
    assert [row["version"] for row in rows] == [str(A), str(A_PATCH), str(B)]
    assert [row["number"] for row in rows] == ["1.0.0", "1.0.1", "2.0.0"]
    assert [row["seq"] for row in rows] == [0, 1, 2]
    for row in rows:
        assert set(row) == {"op_name", "version", "number", "seq", "registered_at",
                            "registered_host", "registered_pid"}
        assert datetime.fromisoformat(row["registered_at"]).tzinfo is not None
    assert api.post("get_versions", {"op_name": "nothing"}) == (
        200, {"op_name": "nothing", "versions": []})
    status, latest = api.post("get_latest_version", {"op_name": "scaler"})
    assert (status, latest["version"], latest["number"]) == (200, str(B), "2.0.0")
    status, one = api.post("get_version", {"op_name": "scaler", "version": str(A_PATCH)})
    assert (status, one["number"]) == (200, "1.0.1")
    status, error = api.post("get_latest_version", {"op_name": "nothing"})
    assert (status, error["error"]["type"]) == (404, "op_not_found")
    status, error = api.post("get_version", {"op_name": "scaler",
                                             "version": str(Version.from_parts(b"zz"))})
    assert (status, error["error"]["type"]) == (404, "version_not_found")


def test_aliases_with_compare_and_swap(api: Api) -> None:
    _register(api, "model", A, B)
    status, entry = api.post("set_alias", {"op_name": "model", "alias": "prod",
                                           "version": str(A), "expected": None})
    assert status == 200
    assert (entry["alias"], entry["version"], entry["seq"]) == ("prod", str(A), 0)
    # expected null: the alias must not exist yet.
    status, error = api.post("set_alias", {"op_name": "model", "alias": "prod",
                                           "version": str(B), "expected": None})
    assert (status, error["error"]["type"]) == (409, "conflict")
    # Wrong expectation: refused, nothing moves.
    status, error = api.post("set_alias", {"op_name": "model", "alias": "prod",
                                           "version": str(B), "expected": str(B)})
    assert status == 409
    status, entry = api.post("set_alias", {"op_name": "model", "alias": "prod",
                                           "version": str(B), "expected": str(A)})
    assert (status, entry["seq"]) == (200, 1)
    status, target = api.post("get_alias", {"op_name": "model", "alias": "prod"})
    assert status == 200
    assert target["version"]["version"] == str(B) and target["version"]["number"] == "2.0.0"
    # Without "expected": unconditional.
    assert api.post("set_alias", {"op_name": "model", "alias": "staging",
                                  "version": str(A)})[0] == 200
    assert api.post("list_aliases", {"op_name": "model"}) == (
        200, {"op_name": "model", "aliases": ["prod", "staging"]})
    status, error = api.post("get_alias", {"op_name": "model", "alias": "none"})
    assert (status, error["error"]["type"]) == (404, "alias_not_found")
    status, error = api.post("set_alias", {"op_name": "model", "alias": "x",
                                           "version": str(Version.from_parts(b"q"))})
    assert (status, error["error"]["type"]) == (404, "version_not_found")


def test_idempotency_key_header_reaches_the_store(api: Api) -> None:
    _register(api, "model", A)
    first = base64.b64encode(b"first").decode()
    other = base64.b64encode(b"other").decode()
    headers = {"idempotency-key": "retry-1"}
    body = {"op_name": "model", "version": str(A), "bytes": first}
    assert api.post("save_op_bytes", body, headers) == (200, {})
    assert api.post("save_op_bytes", body, headers) == (200, {})
    # A retry carrying the same key applies once: the first save stands (the core answers
    # the first result when the newest binding carries the key's token).
    assert api.post("save_op_bytes", {**body, "bytes": other}, headers)[0] in (200, 409)
    _, loaded = api.post("get_op_bytes_for_version",
                         {"desired_op_name": "model", "version": str(A)})
    assert base64.b64decode(loaded["bytes"]) == b"first"
    # Without the key the same request is a new save.
    assert api.post("save_op_bytes", {**body, "bytes": other}) == (200, {})
    _, loaded = api.post("get_op_bytes_for_version",
                         {"desired_op_name": "model", "version": str(A)})
    assert base64.b64decode(loaded["bytes"]) == b"other"
    status, error = api.post("save_op_bytes", body, {"Idempotency-Key": "x" * 201})
    assert (status, error["error"]["type"]) == (400, "invalid_input")
    status, error = api.post("save_op_bytes", body, {"Idempotency-Key": "has space"})
    assert status == 400


def test_body_and_response_limits(api: Api) -> None:
    _register(api, "model", A)
    api.config = ApiConfig(max_body_bytes=4096, max_response_bytes=2048)
    big = base64.b64encode(b"x" * 4000).decode()
    before = api.bucket_keys()
    status, error = api.post("save_op_bytes", {"op_name": "model", "version": str(A),
                                               "bytes": big})
    assert (status, error["error"]["type"]) == (413, "payload_too_large")
    assert api.bucket_keys() == before
    fits = base64.b64encode(b"y" * 2000).decode()
    assert api.post("save_op_bytes", {"op_name": "model", "version": str(A),
                                      "bytes": fits})[0] == 200
    status, error = api.post("get_op_bytes_for_version",
                             {"desired_op_name": "model", "version": str(A)})
    assert (status, error["error"]["type"]) == (413, "response_too_large")
    assert "presign_download" in error["error"]["message"]


def test_presigned_routes_need_an_s3_store(tmp_path: object) -> None:
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url("memory://")
    store.register_version("model", A)
    local = Api(store, client=None, prefix="")
    for name, body in (
        ("presign_upload", {"op_name": "model", "version": str(A), "sha256": "0" * 64,
                            "size": 1}),
        ("commit_upload", {"op_name": "model", "version": str(A), "sha256": "0" * 64,
                           "size": 1}),
        ("presign_download", {"op_name": "model", "version": str(A)}),
    ):
        status, error = local.post(name, body)
        assert (status, error["error"]["type"]) == (400, "invalid_input"), name
        assert "S3 store" in error["error"]["message"]


def test_method_and_route_errors(api: Api) -> None:
    response = api.raw("GET", "/v1/list_ops")
    assert response.status == 405 and response.headers["Allow"] == "POST"
    assert api.raw("POST", "/v1/nope", b"{}").status == 404
    assert api.raw("POST", "/v1/list_ops/", b"{}").status == 404
    assert api.raw("POST", "/list_ops", b"{}").status == 404


def test_storage_failures_and_surprises_map_to_503_and_500(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from s3opstore.registry.opstore import OpStore
    from s3opstore.stores.wrappers import Fault, FaultyStore

    flaky = Api(OpStore(FaultyStore(api.store.store, [Fault("get", nth=1)])), api.client,
                api.prefix)
    status, error = flaky.post("get_versions", {"op_name": "model"})
    assert (status, error["error"]["type"]) == (503, "storage_unavailable")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(OpStore, "list_pipelines", explode)
    with caplog.at_level("ERROR", logger="s3opstore.api"):
        status, error = api.post("list_pipelines", {})
    assert (status, error["error"]["type"]) == (500, "internal")
    assert "secret" not in error["error"]["message"]
    assert "secret internal detail" in caplog.text  # the traceback went to the log
