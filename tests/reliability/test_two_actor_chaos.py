"""Randomized two-actor run on a real SeaweedFS: writers, presigned uploads, gc at grace 0.

Separate processes (moto's mock is not thread-safe; SeaweedFS is a real
server) for a bounded time: two writers saving fresh and pooled (identical)
bytes, an honest and a lying presigned-upload client, and gc looping with a
zero grace period. Every save an actor was told succeeded must then load
byte for byte, and after two final gc runs ``fsck --deep`` is clean with
nothing left in the trash. ``S3OPSTORE_CHAOS_SCALE=full`` runs it longer.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.models.keys import trash_root
from s3opstore.models.version import Version
from tests.cli.support import make_cli_store
from tests.reliability import figures, two_actor_workers

FULL = os.environ.get("S3OPSTORE_CHAOS_SCALE") == "full"
SECONDS = 60.0 if FULL else 10.0
OP = "shared"

pytestmark = [pytest.mark.seaweedfs, pytest.mark.slow]


@pytest.fixture
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(max_workers=5,
                             mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def test_writers_uploaders_and_gc_lose_nothing_acknowledged(
        request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        pool: ProcessPoolExecutor) -> None:
    target = make_cli_store("seaweedfs", request, tmp_path, monkeypatch)
    store = target.open()
    store.check_store()
    manager = multiprocessing.get_context("spawn").Manager()
    start = manager.Barrier(5)  # every actor runs the same SECONDS, together
    started = time.time()
    gc = pool.submit(two_actor_workers.collector, target.url, target.env, start, SECONDS)
    writers = [pool.submit(two_actor_workers.writer, target.url, target.env, OP, w, start,
                           SECONDS) for w in range(2)]
    uploaders = [pool.submit(two_actor_workers.uploader, target.url, target.env, OP, 0, start,
                             SECONDS, lying) for lying in (False, True)]
    written = [f.result(timeout=SECONDS + 400) for f in writers]
    honest, liar = (f.result(timeout=SECONDS + 400) for f in uploaders)
    swept = gc.result(timeout=SECONDS + 400)
    elapsed = time.time() - started
    manager.shutdown()

    # The liar can be acknowledged only for the genuine bytes: when gc (grace 0) removed
    # its staging upload first, its commit proves and binds the bytes already stored under
    # that digest, as a commit after `exists: true` does. Its forgeries are never bound:
    # every acknowledgement, the liar's included, must load the genuine bytes.
    acked = [pair for result in (*written, honest, liar) for pair in result["acked"]]
    lost = []
    for text, sha in acked:
        data = store.load_op_bytes(OP, Version.parse(text))
        if hashlib.sha256(data).hexdigest() != sha:
            lost.append(text)
    collect_garbage(store, grace_hours=0)
    collect_garbage(store, grace_hours=0)
    report = fsck(store, deep=True)
    trash_left = list(store.store.list(trash_root(OP)))
    figures.record("two-actor-chaos", {
        "scale": "full" if FULL else "ci", "seconds": round(elapsed, 1),
        "actors": "2 writers, 1 honest + 1 lying presign client, gc --grace 0",
        "acknowledged_saves": len(acked), "lost": len(lost),
        "writer_errors": sum(r["errors"] for r in written) + honest["errors"],
        "forgeries_refused": liar["refused"], "liar_genuine_commits": len(liar["acked"]),
        "gc_runs": swept["runs"],
        "gc_blob_deletions": swept["deleted"], "gc_restores": swept["restored"],
        "gc_kept": swept["kept"]})
    print(f"two-actor chaos: {len(acked)} acknowledged, {len(lost)} lost, gc {swept}, "
          f"liar refused {liar['refused']}")
    assert lost == []
    assert report.ok, report.problems
    assert trash_left == []
    # The run did exercise the races: gc deleted under the writers, forgeries were refused.
    assert swept["runs"] >= 3 and swept["deleted"] > 0
    assert liar["refused"] > 0 and len(acked) > 10
