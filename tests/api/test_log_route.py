"""The history through the faces (design.md, D16): HTTP API and Chariots-compatible client.

Writes made through either face leave their events; ``POST /v1/log`` reads them back with
their digests; bad requests are 400s naming the value, never 500s, and read nothing.
"""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

from s3opstore import S3OpStoreClient
from s3opstore.maintenance.fsck import fsck
from s3opstore.models.version import Version
from s3opstore.registry.events import history
from tests.api.conftest import Api
from tests.compat_support import ChariotsNode, ChariotsPipeline, cv, save_pipeline

A = Version.from_parts(b"a", creation_time=datetime(2024, 1, 1, 0, 0, 0))
B = Version.from_parts(b"b", creation_time=datetime(2024, 1, 2, 0, 0, 0))


def test_http_writes_are_logged_and_read_back(api: Api) -> None:
    for version in (A, B):
        assert api.post("register_valid_link", {
            "downstream_op_name": "model", "upstream_op_name": "scaler",
            "upstream_op_version": str(version)}) == (200, {})
    assert api.post("set_alias", {"op_name": "scaler", "alias": "prod",
                                  "version": str(B)})[0] == 200
    assert api.post("register_new_pipeline", {"pipeline_name": "p1",
                                              "last_op_name": "model"}) == (200, {})

    status, body = api.post("log", {"op_name": "scaler"})
    assert status == 200 and body["op_name"] == "scaler"
    events = body["events"]
    # the op's chains (design.md, D16), merged newest first by the writers' clocks: its
    # versions', its own (the alias) and one link chain per version linked
    versions = [e for e in events if e["action"] == "version.register"]
    others = [e for e in events if e["action"] != "version.register"]
    assert [(e["seq"], e["version"]) for e in versions] == [(1, B.vid), (0, A.vid)]
    assert [(e["seq"], e["action"], e["version"], e["name"]) for e in others] == [
        (0, "alias.set", B.vid, "prod"), (0, "link.register", B.vid, "model"),
        (0, "link.register", A.vid, "model")]
    assert [e["prev"] for e in versions] == [versions[1]["digest"], None]
    assert [e["prev"] for e in others] == [None, None, None]  # each first of its chain
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    stored = history(api.store.store, "scaler")
    assert [e["digest"] for e in events] == [e.digest for e in stored]

    status, every = api.post("log", {"limit": 2})
    assert status == 200 and len(every["events"]) == 2
    status, every = api.post("log", {})
    assert {e["action"] for e in every["events"]} == {
        "version.register", "alias.set", "link.register", "op.declare", "pipeline.register"}
    assert fsck(api.store).ok


@pytest.mark.parametrize(("body", "named"), [
    ({"limit": 0}, "limit"), ({"limit": 5000}, "limit"), ({"op_name": ""}, "op_name"),
    ({"op_name": "x", "extra": 1}, "extra"), ({"limit": "3"}, "limit")])
def test_bad_log_requests_are_400s(api: Api, body: dict[str, object], named: str) -> None:
    status, error = api.post("log", body)
    assert status == 400, error
    assert error["error"]["type"] in ("invalid_input", "invalid_name")
    assert named in error["error"]["message"]


def test_compat_client_writes_are_logged(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chariots", None)  # the stand-in Version class is used
    client = S3OpStoreClient(api.store)
    pipeline = ChariotsPipeline("train", [ChariotsNode("scaler", cv(b"s1"), data=b"scaler"),
                                          ChariotsNode("model", cv(b"m1"), data=b"model")])
    save_pipeline(client, pipeline)
    actions = {(e.op, e.action) for e in history(api.store.store, every=True)}
    assert {("scaler", "version.register"), ("scaler", "bytes.bind"),
            ("model", "version.register"), ("model", "bytes.bind"),
            ("scaler", "link.register"), (None, "pipeline.register")} <= actions
    assert fsck(api.store).ok
