"""Races between separate processes, on SeaweedFS (a real server) and the local store.

8 processes each register 25 new versions of one op (and links): all 200 must be
present, with unique dense seqs and exactly the numbers sequential registration in
the final order gives. 8 processes registering the same version: one record.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from s3opstore import OpStore, Version
from s3opstore.maintenance.fsck import fsck
from s3opstore.models.keys import intents_prefix
from s3opstore.registry.versions import next_number
from s3opstore.testing import workers

WRITERS, EACH = 8, 25


@pytest.fixture(params=["seaweedfs", "local"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    if request.param == "local":
        return (tmp_path / "store").as_uri(), {}
    server = request.getfixturevalue("seaweed")
    bucket = server.new_bucket("race")
    return f"s3://{bucket}/registry", server.env()


def _pool(n: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))


def _open(url: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> OpStore:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return OpStore.from_url(url)


@pytest.mark.slow
def test_many_writers_lose_nothing(shared: tuple[str, dict[str, str]],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, env = shared
    with _pool(WRITERS) as pool:
        results = list(pool.map(workers.register_versions, [url] * WRITERS, [env] * WRITERS,
                                ["shared_op"] * WRITERS, range(WRITERS), [EACH] * WRITERS,
                                ["downstream"] * WRITERS))
    committed: list[dict[str, Any]] = [item for batch in results for item in batch]
    assert len(committed) == WRITERS * EACH

    store = _open(url, env, monkeypatch)
    records = store.get_versions("shared_op")
    assert len(records) == WRITERS * EACH
    assert [r.seq for r in records] == list(range(WRITERS * EACH))
    assert len({r.version.vid for r in records}) == WRITERS * EACH
    # Every writer got back exactly what was committed for its version.
    by_vid = {r.version.vid: r for r in records}
    for item in committed:
        assert by_vid[item["vid"]].seq == item["seq"]
        assert list(by_vid[item["vid"]].number) == item["number"]
    # Numbers are what sequential registration in the final order gives.
    expected = (1, 0, 0)
    for previous, record in zip([None, *records], records, strict=False):
        if previous is not None:
            expected = next_number(previous, record.version)
        assert record.number == expected
    assert len(store.get_validated_links("downstream", "shared_op")) == WRITERS * EACH
    # A version another writer committed for its waiting writer (a group commit, D18)
    # is still that writer's own, and nobody who finished left an intent behind.
    assert all(item["registered_pid"] == item["pid"] for item in committed)
    assert list(store.store.list(intents_prefix("shared_op"))) == []
    report = fsck(store)
    assert report.ok, report.problems


def test_same_version_from_many_writers_is_one_record(
        shared: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, env = shared
    version = str(Version.from_parts(major=uuid.uuid4().hex))
    start = time.time() + 3.0  # past the children's start-up, so the writes collide
    with _pool(WRITERS) as pool:
        results = list(pool.map(workers.register_same, [url] * WRITERS, [env] * WRITERS,
                                ["same_op"] * WRITERS, [version] * WRITERS,
                                [start] * WRITERS))
    assert {(r["seq"], tuple(r["number"]), r["str"], r["pid"]) for r in results} == {
        (results[0]["seq"], (1, 0, 0), version, results[0]["pid"])}
    store = _open(url, env, monkeypatch)
    assert len(store.get_versions("same_op")) == 1
