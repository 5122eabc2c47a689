"""The resolve and resolve_pipeline routes."""

from __future__ import annotations

from datetime import datetime

from s3opstore.models.version import Version
from tests.api.conftest import Api

A = Version.from_parts(b"a", creation_time=datetime(2024, 1, 1, 0, 0, 0))
AX = Version.from_parts(b"a", b"x", creation_time=datetime(2024, 1, 2, 0, 0, 0))
M = Version.from_parts(b"m", creation_time=datetime(2024, 1, 3, 0, 0, 0))


def test_resolve_accepts_every_reference_form(api: Api) -> None:
    for version in (A, AX):
        api.post("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "pca",
                                         "upstream_op_version": str(version)})
    api.post("set_alias", {"op_name": "pca", "alias": "production", "version": str(A)})
    for ref, expected in (("latest", AX), ("1.0.0", A), ("production", A), (str(AX), AX),
                          (AX.major[:4] + "." + AX.minor[:4], AX)):
        status, body = api.post("resolve", {"op_name": "pca", "ref": ref})
        assert (status, body["version"]) == (200, str(expected)), ref
    assert api.post("resolve", {"op_name": "pca"})[1]["number"] == "1.1.0"
    status, error = api.post("resolve", {"op_name": "pca", "ref": "3.0.0"})
    assert (status, error["error"]["type"]) == (404, "version_not_found")
    status, error = api.post("resolve", {"op_name": "pca", "ref": A.major[:8]})
    assert (status, error["error"]["type"]) == (400, "invalid_input")
    assert "ambiguous" in error["error"]["message"]
    status, error = api.post("resolve", {"op_name": "pca", "ref": ""})
    assert (status, error["error"]["type"]) == (400, "invalid_input")


def test_resolve_pipeline_names_the_missing_link(api: Api) -> None:
    api.post("register_new_pipeline", {"pipeline_name": "p", "last_op_name": "model"})
    api.post("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "model",
                                     "upstream_op_version": str(M)})
    api.post("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "pca",
                                     "upstream_op_version": str(A)})
    status, body = api.post("resolve_pipeline", {"pipeline_name": "p"})
    assert status == 200
    assert body["ok"] is True
    assert [op["op_name"] for op in body["ops"]] == ["model"]
    api.post("register_valid_link", {"downstream_op_name": "model", "upstream_op_name": "pca",
                                     "upstream_op_version": str(A)})
    status, body = api.post("resolve_pipeline", {"pipeline_name": "p"})
    assert [(op["op_name"], op["version"]["number"], op["downstream"]) for op in body["ops"]] == [
        ("model", "1.0.0", []), ("pca", "1.0.0", ["model"])]
    status, error = api.post("resolve_pipeline", {"pipeline_name": "nope"})
    assert (status, error["error"]["type"]) == (404, "pipeline_not_found")
