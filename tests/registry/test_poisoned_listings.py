"""One unparsable listing key hides one record, never the op's listings.

The keys planted here are what releases before the fixed-width year wrote for
a version created before year 1000 (``..._9990101T000000_...``), plus plain
junk. Listings answer with every good record and report the bad keys; fsck
names them. Memory, local directory and SeaweedFS, through the Python API,
``handle()`` and a real HTTP request.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests

from s3opstore.api import ApiRequest, handle
from s3opstore.api.handler import SKIPPED_HEADER
from s3opstore.api.server import make_server
from s3opstore.maintenance.fsck import fsck
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from tests.conftest import make_store

OLD = Version.from_parts(b"old", creation_time=datetime(999, 1, 1))
GOOD = [Version.from_parts(b"g1", creation_time=datetime(2020, 1, 1)),
        Version.from_parts(b"g2", creation_time=datetime(2021, 1, 1)),
        Version.from_parts(b"g3", creation_time=datetime(2022, 1, 1))]


@pytest.fixture(params=["memory", "local", "seaweedfs"])
def poisoned(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[OpStore, list[str]]:
    """An op whose OLD entry and link keys carry the unpadded year; returns the bad keys."""
    store = OpStore(make_store(request.param, request, tmp_path))
    for version in (GOOD[0], OLD, GOOD[1], GOOD[2]):
        store.register_valid_link("down", "op", version)
    bad = []
    for prefix in (f"ops/op/versions/{OLD.vid}/", "links/down/op/"):
        for info in store.store.list(prefix):
            if "_09990101T" in info.key:
                data = store.store.get(info.key).data
                old_key = info.key.replace("_09990101T", "_9990101T")
                store.store.put(old_key, data)
                store.store.delete(info.key)
                bad.append(old_key)
    junk = "links/down/op/not-a-link.json"
    store.store.put(junk, b"{}")
    assert len(bad) == 2
    return store, [*bad, junk]


def test_python_listings_keep_the_good_records_and_report_the_bad_keys(
        poisoned: tuple[OpStore, list[str]], caplog: pytest.LogCaptureFixture) -> None:
    store, bad = poisoned
    with caplog.at_level(logging.WARNING, logger="s3opstore.listing"):
        versions = store.list_versions("op")
        links = store.list_validated_links("down", "op")
    assert [r.version for r in versions.items] == [GOOD[0], GOOD[1], GOOD[2]]
    assert [r.number for r in versions.items] == [(1, 0, 0), (3, 0, 0), (4, 0, 0)]
    assert [s.key for s in versions.skipped] == [bad[0]]
    assert "9990101T000000" in versions.skipped[0].reason
    assert links.items == set(GOOD)
    assert sorted(s.key for s in links.skipped) == sorted(bad[1:])
    assert {r.getMessage().split("'")[1] for r in caplog.records} == set(bad)
    assert [r.version for r in store.get_versions("op")] == GOOD
    assert store.get_validated_links("down", "op") == set(GOOD)
    # Writes go on, and the new version lists too.
    new = Version.from_parts(b"g4", creation_time=datetime(2023, 1, 1))
    assert store.register_version("op", new).number == (5, 0, 0)
    assert [r.version for r in store.get_versions("op")] == [*GOOD, new]


def test_fsck_names_each_bad_key(poisoned: tuple[OpStore, list[str]]) -> None:
    store, bad = poisoned
    problems = {p.key: p for p in fsck(store).problems}
    for key in bad:
        assert problems[key].kind == "bad_key", problems
        assert "listings skip it" in problems[key].message


@pytest.mark.parametrize(("route", "body", "field"), [
    ("get_all_versions_of_op", {"desired_op_name": "op"}, "all_versions"),
    ("get_versions", {"op_name": "op"}, "versions"),
    ("get_validated_links", {"downstream_op_name": "down", "upstream_op_name": "op"},
     "upstream_versions"),
])
def test_handle_answers_200_with_the_good_records_and_counts_the_skipped(
        poisoned: tuple[OpStore, list[str]], route: str, body: dict[str, str],
        field: str) -> None:
    store, _bad = poisoned
    response = handle(ApiRequest("POST", f"/v1/{route}", {}, json.dumps(body).encode()), store)
    assert response.status == 200, response.body
    answer = json.loads(response.body)
    assert len(answer[field]) == 3
    assert response.headers[SKIPPED_HEADER] == ("2" if route == "get_validated_links" else "1")


def test_clean_listings_send_no_skipped_header() -> None:
    store = OpStore.from_url("memory://")
    store.register_valid_link("down", "op", GOOD[0])
    response = handle(ApiRequest("POST", "/v1/get_validated_links", {}, json.dumps(
        {"downstream_op_name": "down", "upstream_op_name": "op"}).encode()), store)
    assert response.status == 200 and SKIPPED_HEADER not in response.headers


@pytest.fixture
def server_url(poisoned: tuple[OpStore, list[str]]) -> Iterator[str]:
    server = make_server(poisoned[0])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_listing_of_a_poisoned_op_answers(server_url: str) -> None:
    response = requests.post(f"{server_url}/v1/get_all_versions_of_op",
                             json={"desired_op_name": "op"}, timeout=10)
    assert response.status_code == 200
    assert sorted(response.json()["all_versions"]) == sorted(str(v) for v in GOOD)
    assert response.headers[SKIPPED_HEADER] == "1"
