"""Concurrent writers in separate processes on a real SeaweedFS leave one valid chain
per subject, with every acknowledged write's event in it exactly once (design.md, D16).

Four processes start together (a barrier) and each links one common version of the
shared op to a downstream op of its own, registers versions on the shared op and on
its own op, links each shared version and moves an alias of the shared op: the shared
op's head and chain, and the common version's link chain, are contended by all four,
the others by one each.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.models.version import Version
from s3opstore.registry.events import history
from tests.cli.support import make_cli_store
from tests.reliability import event_workers

WRITERS = 4
ROUNDS = 6
SHARED = "shared"

pytestmark = [pytest.mark.seaweedfs]


def test_concurrent_writers_leave_one_valid_chain_per_subject(
        request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = make_cli_store("seaweedfs", request, tmp_path, monkeypatch)
    store = target.open()
    store.check_store()
    context = multiprocessing.get_context("spawn")
    manager = context.Manager()
    start = manager.Barrier(WRITERS)
    with ProcessPoolExecutor(max_workers=WRITERS, mp_context=context) as pool:
        futures = [pool.submit(event_workers.writer, target.url, target.env, SHARED, w,
                               ROUNDS, start) for w in range(WRITERS)]
        acked = [entry for future in futures for entry in future.result(timeout=600)]
    manager.shutdown()
    assert len(acked) == WRITERS * (ROUNDS * 4 + 1) + 1  # + the common version, once

    report = fsck(store)
    assert report.ok, report.problems  # every chain intact, every write logged
    for op in [SHARED, *(f"own-{w}" for w in range(WRITERS))]:
        chain = history(store.store, op)  # its versions', its own, its link chains
        by_chain: dict[tuple[str, str | None], list[int]] = {}
        for e in chain:
            where = (("versions", None) if e.action == "version.register" else
                     ("links", e.version) if e.action == "link.register" else ("op", None))
            by_chain.setdefault(where, []).append(e.seq)
        for seqs in by_chain.values():
            assert sorted(seqs) == list(range(len(seqs)))
        if op == SHARED:  # one link chain per version, the common one's four events long
            assert len(by_chain) == 2 + 1 + WRITERS * ROUNDS
            common = Version.from_parts("every writer").vid
            assert sorted(by_chain["links", common]) == list(range(WRITERS))
        logged = Counter((e.action, e.version if e.action == "version.register"
                          else e.manifest_key) for e in chain)
        mine = [(a["action"], a.get("vid") or a["key"]) for a in acked if a["op"] == op]
        assert Counter(mine) == logged  # each acknowledged write once, nothing else
    actors = {e.actor for e in history(store.store, SHARED)}
    assert actors == {f"writer-{w}" for w in range(WRITERS)}
