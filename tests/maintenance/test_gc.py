"""gc: only unreferenced blobs and scratch leftovers, only when old on the store's clock."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import CLOCK_PREFIX, collect_garbage, store_now
from s3opstore.models.keys import blob_key, probe_key
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore
from s3opstore.stores.wrappers import CountingStore
from tests.cli.support import CliStore, run_cli
from tests.maintenance import gc_workers

CapSys = pytest.CaptureFixture[str]
ORPHAN = b"bytes a writer uploaded before dying" * 10
ORPHAN_DIGEST = hashlib.sha256(ORPHAN).hexdigest()


def _orphan(store: OpStore, op: str = "feat", data: bytes = ORPHAN) -> str:
    key = blob_key(op, hashlib.sha256(data).hexdigest())
    store.store.upload(key, io.BytesIO(data), size=len(data))
    return key


def _populate(store: OpStore) -> list[Version]:
    versions = [Version.from_parts(b"A", str(i)) for i in range(3)]
    for index, version in enumerate(versions):
        store.register_version("feat", version)
        store.save_op_bytes("feat", version, f"kept bytes {index}".encode())
    store.register_valid_link("model", "feat", versions[0])
    store.set_alias("feat", "prod", versions[1])
    return versions


def _keys(store: OpStore) -> set[str]:
    return {info.key for info in store.store.list("")}


def _age(store: CliStore, key: str, hours: float) -> None:
    """Local store only: make an object look ``hours`` old (its mtime is its age)."""
    path = Path(store.url.removeprefix("file://")) / key
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_store_clock_comes_from_the_store(cli_store: CliStore) -> None:
    store = cli_store.open()
    before = _keys(store)
    now = store_now(store.store)
    assert abs(now.timestamp() - time.time()) < 120
    assert _keys(store) == before  # the clock object is removed again
    assert not list(store.store.list(CLOCK_PREFIX))


def test_gc_respects_the_grace_period(local_store: CliStore, capsys: CapSys) -> None:
    store = local_store.open()
    versions = _populate(store)
    orphan = _orphan(store)
    fresh_orphan = _orphan(store, data=b"a writer is uploading this right now")
    old_probe = probe_key("deadbeef" * 4)
    store.store.put(old_probe, b"probe")
    _age(local_store, orphan, 48)
    _age(local_store, old_probe, 48)
    for info in store.store.list("ops/feat/bytes/"):  # old manifests are never garbage
        _age(local_store, info.key, 48)
    before = _keys(store)

    dry = run_cli(capsys, local_store, "gc", "--dry-run")
    assert dry.code == 0
    assert f"would delete {orphan} ({len(ORPHAN)} B, no byte binding references it)" in dry.out
    assert f"would delete {old_probe} (5 B, scratch object left by a writer)" in dry.out
    assert f"would delete 2 objects, {len(ORPHAN) + 5} B in total" in dry.out
    assert _keys(store) == before

    result = run_cli(capsys, local_store, "--json", "gc")
    report = json.loads(result.out)
    assert sorted(item["key"] for item in report["deleted"]) == sorted([old_probe, orphan])
    assert report["deleted_bytes"] == len(ORPHAN) + 5
    assert report["referenced_blobs"] == 3
    assert report["young"] == 1
    # The orphan is gone from its address; its bytes wait in the trash one more grace period.
    aside = _keys(store) - (before - {orphan, old_probe})
    assert [key.rsplit("/", 1)[0] for key in aside] == [f"ops/feat/trash/sha256/{ORPHAN_DIGEST}"]
    assert fresh_orphan in _keys(store)

    again = json.loads(run_cli(capsys, local_store, "--json", "gc").out)
    assert again["deleted"] == [] and _keys(store) - before == aside  # still young
    _age(local_store, aside.pop(), 48)
    again = json.loads(run_cli(capsys, local_store, "--json", "gc").out)
    assert [item["reason"] for item in again["deleted"]] == [
        "trash copy of an unreferenced blob, past the grace"]
    assert _keys(store) == before - {orphan, old_probe}
    for version in versions:
        store.load_op_bytes("feat", version)
    assert fsck(store, deep=True).ok


def test_zero_grace_still_spares_a_fresh_probe(local_store: CliStore) -> None:
    store = local_store.open()
    probe = probe_key("cafebabe" * 4)
    store.store.put(probe, b"probe")
    orphan = _orphan(store)
    report = collect_garbage(store, grace_hours=0)
    assert [item.key for item in report.deleted] == [orphan]
    assert probe in _keys(store)


def test_zero_grace_on_seaweedfs_uses_the_store_clock(cli_store: CliStore,
                                                      capsys: CapSys) -> None:
    store = cli_store.open()
    versions = _populate(store)
    orphan = _orphan(store)
    kept = run_cli(capsys, cli_store, "gc")  # default grace: 24 hours
    assert "deleted 0 objects" in kept.out
    time.sleep(1.1)  # S3 times have one-second resolution
    result = run_cli(capsys, cli_store, "gc", "--grace", "0")
    assert result.code == 0
    assert f"deleted {orphan}" in result.out
    assert orphan not in _keys(store)
    for version in versions:
        store.load_op_bytes("feat", version)
    assert fsck(store).ok


class _BindDuringDelete(CountingStore):
    """Commits a binding to the blob gc is deleting, right after the DELETE lands."""

    def __init__(self, inner: ObjectStore, writer: OpStore, version: Version) -> None:
        super().__init__(inner)
        self.writer = writer
        self.version = version
        self.fired = False

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        super().delete(key, if_match=if_match)
        if "/blobs/" in key and not self.fired:
            self.fired = True
            # The writer found the blob before the delete (reused it) and binds it now.
            from s3opstore.registry import blob_bindings
            from s3opstore.registry.versions import require_version

            record = require_version(self.writer._ctx, "feat", self.version)
            blob_bindings._bind(self.writer._ctx, record, ORPHAN_DIGEST, len(ORPHAN), None)


def test_blob_bound_during_its_deletion_is_put_back(local_store: CliStore) -> None:
    store = local_store.open()
    _populate(store)
    orphan = _orphan(store)
    late = Version.from_parts(b"late")
    store.register_version("feat", late)
    racing = OpStore(_BindDuringDelete(store.store, store, late))
    report = collect_garbage(racing, grace_hours=0)
    assert report.deleted == [] and report.kept == []
    assert [item.key for item in report.restored] == [orphan]
    assert store.load_op_bytes("feat", late) == ORPHAN
    assert not list(store.store.list("ops/feat/trash/"))  # the copy went once put back
    assert fsck(store, deep=True).ok


@pytest.fixture
def spawn_pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=3,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.slow
def test_gc_racing_writers_never_loses_committed_bytes(
        request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        spawn_pool: ProcessPoolExecutor) -> None:
    from tests.cli.support import make_cli_store

    target = make_cli_store("seaweedfs", request, tmp_path, monkeypatch)
    store = target.open()
    store.check_store()
    until = time.time() + 12
    gc_future = spawn_pool.submit(gc_workers.collector, target.url, target.env, until)
    writers = [spawn_pool.submit(gc_workers.writer, target.url, target.env, "feat", w, 25)
               for w in range(2)]
    committed = [v for future in writers for v in future.result(timeout=240)]
    totals = gc_future.result(timeout=240)
    print(f"gc race: {totals}, {len(committed)} versions committed")
    assert totals["runs"] >= 3
    assert totals["deleted"] + totals["restored"] > 0  # gc did contend with the writers
    for text in committed:
        version = Version.parse(text)
        assert store.load_op_bytes("feat", version).startswith(b"worker ")
    report = fsck(store, deep=True)
    assert report.ok, report.problems
    assert report.counts["versions"] == 50
    final = collect_garbage(store, grace_hours=0)
    # Every blob left is referenced: only trash copies (of bound or unbound blobs) may go.
    assert [item.key for item in final.deleted if "/trash/" not in item.key] == []
    assert timedelta(0) == final.grace


def test_negative_grace_is_refused(local_store: CliStore, capsys: CapSys) -> None:
    result = run_cli(capsys, local_store, "gc", "--grace", "-1")
    assert result.code == 3
    assert result.err == "error [invalid_input]: grace must be zero or more hours, not -1.0\n"


def test_gc_sweeps_ops_with_free_text_names(local_store: CliStore) -> None:
    """gc lists encoded op segments; it must find the blobs of 'Inner pipe ✓' all the same."""
    store = local_store.open()
    name = "Inner pipe ✓"
    version = Version.from_parts(b"n")
    store.register_version(name, version)
    store.save_op_bytes(name, version, b"kept")
    orphan = _orphan(store, op=name)
    _age(local_store, orphan, 48)
    report = collect_garbage(store, grace_hours=24)
    assert [item.key for item in report.deleted] == [orphan]
    assert report.referenced_blobs == 1 and not report.warnings
    assert store.load_op_bytes(name, version) == b"kept"
    assert fsck(store, deep=True).ok
