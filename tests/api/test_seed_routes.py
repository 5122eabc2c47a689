"""The seed's seven routes: request and response shapes field by field, as Chariots uses them."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from s3opstore.models.version import Version
from tests.api.conftest import Api

# A microsecond-zero creation time: str(datetime) drops the fraction entirely.
ROUND_TIME = datetime(2021, 3, 4, 5, 6, 7)
V1 = Version.from_parts(b"pca-major", b"m", b"p", creation_time=ROUND_TIME)
V2 = Version.from_parts(b"pca-major-2", creation_time=datetime(2021, 3, 5, 1, 2, 3, 450000))


def test_version_strings_round_trip_byte_for_byte(api: Api) -> None:
    assert str(V1).endswith("_2021-03-04 05:06:07")
    for version in (V1, V2):
        status, body = api.post("register_valid_link", {
            "downstream_op_name": None, "upstream_op_name": "pca",
            "upstream_op_version": str(version)})
        assert (status, body) == (200, {})
    status, body = api.post("get_all_versions_of_op", {"desired_op_name": "pca"})
    assert status == 200
    assert set(body) == {"op_name", "all_versions"}
    assert body["op_name"] == "pca"
    assert body["all_versions"] == [str(V1), str(V2)]  # registration order, exact strings


def test_reregistering_with_another_time_answers_the_first_string(api: Api) -> None:
    api.post("register_valid_link", {"downstream_op_name": "rf", "upstream_op_name": "pca",
                                     "upstream_op_version": str(V1)})
    later = Version(V1.major, V1.minor, V1.patch, datetime(2022, 1, 1, 0, 0, 0, 1))
    status, _ = api.post("register_valid_link", {
        "downstream_op_name": "rf", "upstream_op_name": "pca",
        "upstream_op_version": str(later)})
    assert status == 200
    _, links = api.post("get_validated_links",
                        {"downstream_op_name": "rf", "upstream_op_name": "pca"})
    assert links["upstream_versions"] == [str(V1)]
    _, versions = api.post("get_all_versions_of_op", {"desired_op_name": "pca"})
    assert versions["all_versions"] == [str(V1)]


def test_null_answers(api: Api) -> None:
    assert api.post("get_all_versions_of_op", {"desired_op_name": "ghost"}) == (200, None)
    assert api.post("get_validated_links",
                    {"downstream_op_name": "a", "upstream_op_name": "b"}) == (200, None)
    # An op known only as a downstream has no versions.
    api.post("register_valid_link", {"downstream_op_name": "down", "upstream_op_name": "up",
                                     "upstream_op_version": str(V1)})
    assert api.post("get_all_versions_of_op", {"desired_op_name": "down"}) == (200, None)


def test_validated_links_shape(api: Api) -> None:
    for version in (V1, V2):
        api.post("register_valid_link", {"downstream_op_name": "rf", "upstream_op_name": "pca",
                                         "upstream_op_version": str(version)})
    status, body = api.post("get_validated_links",
                            {"downstream_op_name": "rf", "upstream_op_name": "pca"})
    assert status == 200
    assert set(body) == {"downstream_op_name", "upstream_op_name", "upstream_versions"}
    assert body["downstream_op_name"] == "rf"
    assert body["upstream_op_name"] == "pca"
    assert sorted(body["upstream_versions"]) == sorted([str(V1), str(V2)])


def test_save_and_get_bytes(api: Api) -> None:
    payload = bytes(range(256)) * 40
    api.post("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "model",
                                     "upstream_op_version": str(V1)})
    encoded = base64.b64encode(payload).decode("utf-8")
    assert api.post("save_op_bytes", {"op_name": "model", "version": str(V1),
                                      "bytes": encoded}) == (200, {})
    status, body = api.post("get_op_bytes_for_version",
                            {"desired_op_name": "model", "version": str(V1)})
    assert status == 200
    assert set(body) == {"op_name", "op_version", "bytes"}
    assert body["op_name"] == "model"
    assert body["op_version"] == str(V1)
    assert base64.b64decode(body["bytes"]) == payload
    key = f"{api.prefix}/ops/model/blobs/sha256/{hashlib.sha256(payload).hexdigest()}"
    assert key in api.bucket_keys()


def test_save_needs_a_registered_op_and_version(api: Api) -> None:
    body = {"op_name": "model", "version": str(V1), "bytes": "AAEC"}
    status, error = api.post("save_op_bytes", body)
    assert (status, error["error"]["type"]) == (404, "op_not_found")
    api.post("register_valid_link", {"downstream_op_name": None, "upstream_op_name": "model",
                                     "upstream_op_version": str(V2)})
    status, error = api.post("save_op_bytes", body)
    assert (status, error["error"]["type"]) == (404, "version_not_found")
    status, error = api.post("get_op_bytes_for_version",
                             {"desired_op_name": "model", "version": str(V2)})
    assert (status, error["error"]["type"]) == (404, "bytes_not_found")
    assert set(error) == {"error"} and set(error["error"]) == {"type", "message"}


def test_chariots_flow_pipeline_before_its_ops(api: Api) -> None:
    """Chariots' pipeline server: pipeline_exists, register_new_pipeline, then the ops."""
    assert api.post("pipeline_exists", {"pipeline_name": "train"}) == (200, {"exists": False})
    assert api.post("register_new_pipeline",
                    {"pipeline_name": "train", "last_op_name": "classifier"}) == (200, {})
    assert api.post("pipeline_exists", {"pipeline_name": "train"}) == (200, {"exists": True})
    # The last op is known (listed) but has no versions yet: null, not an error.
    assert api.post("get_all_versions_of_op", {"desired_op_name": "classifier"}) == (200, None)
    assert "classifier" in api.post("list_ops", {})[1]["ops"]
    # Saving the pipeline: links upstream -> downstream, then None for the last op.
    api.post("register_valid_link", {"downstream_op_name": "classifier",
                                     "upstream_op_name": "pca", "upstream_op_version": str(V1)})
    api.post("register_valid_link", {"downstream_op_name": None,
                                     "upstream_op_name": "classifier",
                                     "upstream_op_version": str(V2)})
    for op, version in (("pca", V1), ("classifier", V2)):
        assert api.post("save_op_bytes", {"op_name": op, "version": str(version),
                                          "bytes": base64.b64encode(op.encode()).decode()}
                        ) == (200, {})
    # Loading: newest version, a validated link from the upstream, the bytes.
    _, versions = api.post("get_all_versions_of_op", {"desired_op_name": "classifier"})
    assert versions == {"op_name": "classifier", "all_versions": [str(V2)]}
    _, links = api.post("get_validated_links",
                        {"downstream_op_name": "classifier", "upstream_op_name": "pca"})
    assert links["upstream_versions"] == [str(V1)]
    _, loaded = api.post("get_op_bytes_for_version",
                         {"desired_op_name": "pca", "version": str(V1)})
    assert base64.b64decode(loaded["bytes"]) == b"pca"
    # Registering the same pipeline again is harmless.
    assert api.post("register_new_pipeline",
                    {"pipeline_name": "train", "last_op_name": "classifier"}) == (200, {})
    status, error = api.post("register_new_pipeline",
                             {"pipeline_name": "train", "last_op_name": "other"})
    assert (status, error["error"]["type"]) == (409, "already_exists")


def test_every_success_is_200_with_a_json_body(api: Api) -> None:
    """Chariots' client raises on anything but 200 and parses every body."""
    calls = [
        ("register_new_pipeline", {"pipeline_name": "p", "last_op_name": "o"}),
        ("register_valid_link", {"downstream_op_name": "o", "upstream_op_name": "u",
                                 "upstream_op_version": str(V1)}),
        ("save_op_bytes", {"op_name": "u", "version": str(V1), "bytes": ""}),
        ("pipeline_exists", {"pipeline_name": "p"}),
        ("get_all_versions_of_op", {"desired_op_name": "u"}),
        ("get_validated_links", {"downstream_op_name": "o", "upstream_op_name": "u"}),
        ("get_op_bytes_for_version", {"desired_op_name": "u", "version": str(V1)}),
    ]
    for name, body in calls:
        response = api.raw("POST", f"/v1/{name}", json.dumps(body).encode())
        assert response.status == 200, (name, response.body)
        assert response.body  # never empty: {} for writes
