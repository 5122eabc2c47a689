"""register_version with metadata, get_metadata and set_tags over HTTP."""

from __future__ import annotations

from datetime import datetime

from s3opstore.models.version import Version
from tests.api.conftest import Api

A = Version.from_parts(b"a", creation_time=datetime(2024, 1, 1, 0, 0, 0))
META = {"description": "first fit", "tags": {"team": "vision"}, "params": {"depth": 3},
        "metrics": {"auc": 0.91}, "source": {"commit": "3f2a1b9"}}


def test_metadata_round_trip_and_immutability(api: Api) -> None:
    status, info = api.post("register_version", {"op_name": "clf", "version": str(A),
                                                 "metadata": META})
    assert (status, info["number"]) == (200, "1.0.0")
    status, body = api.post("get_metadata", {"op_name": "clf", "ref": "1.0.0"})
    assert status == 200
    assert body["metadata"] == META
    assert (body["tags"], body["op_tags"], body["version"]["version"]) == ({}, {}, str(A))
    keys = api.bucket_keys()
    status, error = api.post("register_version", {"op_name": "clf", "version": str(A),
                                                  "metadata": {**META, "description": "x"}})
    assert (status, error["error"]["type"]) == (409, "already_exists")
    assert api.bucket_keys() == keys
    status, error = api.post("register_version", {"op_name": "clf", "version": str(A),
                                                  "metadata": {"metrics": {"auc": "high"}}})
    assert (status, error["error"]["type"]) == (400, "invalid_input")


def test_set_tags_on_the_op_and_on_a_version(api: Api) -> None:
    api.post("register_version", {"op_name": "clf", "version": str(A)})
    status, body = api.post("set_tags", {"op_name": "clf", "tags": {"owner": "ana"}})
    assert (status, body) == (200, {"op_name": "clf", "version": None, "seq": 0,
                                    "tags": {"owner": "ana"}})
    status, body = api.post("set_tags", {"op_name": "clf", "ref": "latest",
                                         "tags": {"stage": "prod"}})
    assert (status, body["version"], body["tags"]) == (200, str(A), {"stage": "prod"})
    status, body = api.post("get_metadata", {"op_name": "clf"})
    assert (body["metadata"], body["tags"], body["op_tags"]) == (
        None, {"stage": "prod"}, {"owner": "ana"})
    status, body = api.post("set_tags", {"op_name": "clf", "unset": ["owner"]})
    assert (body["seq"], body["tags"]) == (1, {})
    status, error = api.post("set_tags", {"op_name": "clf", "ref": "2.0.0", "tags": {"a": "b"}})
    assert (status, error["error"]["type"]) == (404, "version_not_found")


def test_delete_alias_route(api: Api) -> None:
    api.post("register_version", {"op_name": "clf", "version": str(A)})
    api.post("set_alias", {"op_name": "clf", "alias": "prod", "version": str(A)})
    status, error = api.post("delete_alias", {"op_name": "clf", "alias": "prod",
                                              "expected": "2.0.0"})
    assert (status, error["error"]["type"]) == (404, "version_not_found")
    status, body = api.post("delete_alias", {"op_name": "clf", "alias": "prod",
                                             "expected": "1.0.0"})
    assert (status, body["version"], body["seq"]) == (200, str(A), 1)
    assert api.post("list_aliases", {"op_name": "clf"}) == (
        200, {"op_name": "clf", "aliases": []})
    status, error = api.post("get_alias", {"op_name": "clf", "alias": "prod"})
    assert (status, error["error"]["type"]) == (404, "alias_not_found")


def test_search_routes(api: Api) -> None:
    for index, auc in enumerate((0.8, 0.95)):
        api.post("register_version", {
            "op_name": "clf", "version": str(Version.from_parts(str(index))),
            "metadata": {"metrics": {"auc": auc}}})
    status, body = api.post("search_versions", {"op_name": "clf", "metrics": ["auc>=0.9"]})
    assert status == 200
    assert [(v["version"]["number"], v["metrics"]) for v in body["versions"]] == [
        ("2.0.0", {"auc": 0.95})]
    status, body = api.post("search_versions", {"op_name": "clf", "limit": 1})
    assert (len(body["versions"]), body["next_after"]) == (1, "0")
    status, body = api.post("search_versions", {"op_name": "clf", "after": "0"})
    assert [v["version"]["number"] for v in body["versions"]] == ["2.0.0"]
    assert api.post("search_ops", {"pattern": "c*"}) == (200, {"ops": ["clf"],
                                                               "next_after": None})
    for bad in ({"op_name": "clf", "limit": 0}, {"op_name": "clf", "metrics": ["auc?"]},
                {"op_name": "clf", "registered_after": "yesterday"}):
        status, error = api.post("search_versions", bad)
        assert (status, error["error"]["type"]) == (400, "invalid_input"), bad


def test_retirement_routes(api: Api) -> None:
    api.post("register_version", {"op_name": "clf", "version": str(A)})
    status, body = api.post("set_version_status", {"op_name": "clf", "ref": "1.0.0",
                                                   "state": "archived", "reason": "leak"})
    assert (status, body["state"], body["reason"], body["version"]) == (
        200, "archived", "leak", str(A))
    status, error = api.post("set_version_status", {"op_name": "clf", "ref": "1.0.0",
                                                    "state": "deleted"})
    assert (status, error["error"]["type"]) == (400, "invalid_input")
    status, body = api.post("hide_op", {"op_name": "clf"})
    assert (status, body["state"], body["version"]) == (200, "hidden", None)
    assert api.post("list_ops", {}) == (200, {"ops": []})
    status, body = api.post("hide_op", {"op_name": "clf", "hidden": False})
    assert (body["state"], body["seq"]) == ("active", 1)
    assert api.post("list_ops", {}) == (200, {"ops": ["clf"]})
