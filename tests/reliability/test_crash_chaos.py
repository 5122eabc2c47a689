"""Writers SIGKILLed mid-operation against SeaweedFS: nothing acknowledged is lost.

Separate writer processes (``chaos_worker``) run a fixed script of
contended and private writes, journaling each acknowledged operation, while
a chaos loop SIGKILLs random writers and restarts them (each resumes at its
first unacknowledged operation, with the same idempotency key). The loop is
bounded in kills and time. Afterwards every acknowledged operation must be
in the store with the result it was acknowledged with, numbering must be
consistent, the stored invariants and ``fsck --deep`` clean (after ``--repair`` logged
the writes a kill left without their event, at most one per kill), and gc may
delete only leftovers (unreferenced blobs, scratch keys), never a blob a
binding references.

CI size: 8 writers x 20 operations, up to 12 kills; S3OPSTORE_CHAOS_SCALE=full:
16 writers x 100 operations, up to 60 kills.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import SeaweedFS
from tests.reliability import figures
from tests.reliability.chaos_worker import SHARED_OP, completed, payload, version_of
from tests.reliability.invariants import check_invariants

FULL = os.environ.get("S3OPSTORE_CHAOS_SCALE") == "full"
# DEADLINE only stops a hung run: it sits just under pytest's 300 s timeout in CI, since
# on a machine shared with other suites a tighter bound fails runs that were merely slow.
WRITERS, OPS, MAX_KILLS, DEADLINE = (16, 100, 60, 300.0) if FULL else (8, 20, 12, 240.0)
REPO = Path(__file__).resolve().parents[2]


def _spawn(url: str, env: dict[str, str], writer: int, journal: Path) -> subprocess.Popen[bytes]:
    with open(journal.with_suffix(".err"), "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.chaos_worker", url, str(writer),
             str(OPS), str(journal)],
            cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=err)


def _mid_operation(journal: Path) -> bool:
    lines = journal.read_text().splitlines() if journal.exists() else []
    return bool(lines) and lines[-1].startswith("start")


def _inside_an_operation(journal: Path, proc: subprocess.Popen[bytes],
                         timeout: float = 5.0) -> bool:
    """Wait until the writer has begun an operation (its journal ends with ``start``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if _mid_operation(journal):
            return True
        time.sleep(0.002)
    return False


def _entries(journal: Path) -> list[dict[str, Any]]:
    out = []
    for line in journal.read_text().splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


@pytest.mark.slow
@pytest.mark.seaweedfs
def test_sigkilled_writers_lose_nothing_acknowledged(seaweed: SeaweedFS, tmp_path: Path) -> None:
    bucket = seaweed.new_bucket("chaos")
    url = f"s3://{bucket}/chaos"
    env = seaweed.env()
    rng = random.Random(int(os.environ.get("S3OPSTORE_CHAOS_SEED", "6")))
    journals = [tmp_path / f"writer-{w}.journal" for w in range(WRITERS)]
    procs = {w: _spawn(url, env, w, journals[w]) for w in range(WRITERS)}
    kills = mid_op_kills = restarts = 0
    started = time.monotonic()
    try:
        while True:
            for w, proc in list(procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                if code == 0 and len(completed(journals[w])) == OPS:
                    del procs[w]
                    continue
                err = journals[w].with_suffix(".err").read_text()[-2000:]
                if code != -signal.SIGKILL:
                    pytest.fail(f"writer {w} exited with {code}:\n{err}")
            if not procs:
                break
            assert time.monotonic() - started < DEADLINE, "the chaos run did not finish in time"
            time.sleep(rng.uniform(0.05, 0.5))
            if kills >= MAX_KILLS:
                continue
            w = rng.choice(sorted(procs))
            if procs[w].poll() is not None or not _inside_an_operation(journals[w], procs[w]):
                continue
            time.sleep(rng.uniform(0, 0.03))  # somewhere inside its requests
            procs[w].send_signal(signal.SIGKILL)
            procs[w].wait()
            kills += 1
            mid_op_kills += _mid_operation(journals[w])
            procs[w] = _spawn(url, env, w, journals[w])
            restarts += 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    elapsed = time.monotonic() - started

    store = OpStore(S3Store(bucket, "chaos", client=seaweed.client()))
    acknowledged = [(w, e) for w in range(WRITERS) for e in _entries(journals[w])]
    assert len({(w, e["i"]) for w, e in acknowledged}) == WRITERS * OPS

    # Every acknowledged operation is there, with the result it was acknowledged with.
    records = {r.version.vid: r for r in store.get_versions(SHARED_OP)}
    links = {d: store.get_validated_links(d, SHARED_OP) for d in ("down0", "down1")}
    histories = {w: store.alias_history(SHARED_OP, f"w{w}") for w in range(WRITERS)}
    for w, entry in acknowledged:
        round_ = entry["i"] // 4
        version = version_of(w, round_)
        if entry["step"] == 0:
            record = records[entry["vid"]]
            assert (record.seq, list(record.number)) == (entry["seq"], entry["number"]), entry
        elif entry["step"] == 1:
            assert version in links[f"down{w % 2}"]
        elif entry["step"] == 2:
            assert store.load_op_bytes(SHARED_OP, version) == payload(w, round_)
        else:
            assert histories[w][entry["alias_seq"]].version == version
    assert len(records) == WRITERS * OPS // 4  # no version lost or duplicated
    assert sorted(r.seq for r in records.values()) == list(range(len(records)))

    report = check_invariants(store.store)
    assert report.clean, report.problems
    # The history (design.md, D16): a writer killed between a write and its event leaves
    # that write unlogged, and only then; fsck names each one, --repair logs each once.
    unlogged = [p for p in fsck(store).problems if p.kind == "unlogged"]
    assert len(unlogged) <= kills, unlogged
    recovered = repair_history(store.store)
    assert sorted(e.manifest_key for e in recovered) == sorted(p.key for p in unlogged)
    assert repair_history(store.store) == []
    deep = fsck(store, deep=True)
    assert deep.ok, deep.problems

    # gc removes leftovers only: everything bound is still loadable afterwards. A writer
    # killed between uploading and binding and never retried leaves an unreferenced
    # blob; three such leftovers are planted so that gc has something to remove.
    bound_blobs = {f"ops/{SHARED_OP}/blobs/sha256/{e['sha256']}" for _, e in acknowledged
                   if e["step"] == 2}
    planted = set()
    for n in range(3):
        data = f"orphan {n}".encode()
        key = f"ops/{SHARED_OP}/blobs/sha256/{hashlib.sha256(data).hexdigest()}"
        store.store.put(key, data)
        planted.add(key)
    leftovers = set(check_invariants(store.store).leftovers)
    assert planted <= leftovers
    swept = collect_garbage(store, grace_hours=0)
    deleted = {item.key for item in swept.deleted}
    assert not deleted & bound_blobs
    assert planted <= deleted <= leftovers
    for w, entry in acknowledged:
        if entry["step"] == 2:
            assert store.load_op_bytes(SHARED_OP, version_of(w, entry["i"] // 4)) == payload(
                w, entry["i"] // 4)
    assert fsck(store, deep=True).ok

    figures.record("crash-chaos", {
        "scale": "full" if FULL else "ci", "writers": WRITERS, "ops_per_writer": OPS,
        "acknowledged_ops": len(acknowledged), "sigkills": kills,
        "unlogged_then_recovered": len(recovered),
        "sigkills_mid_operation": mid_op_kills, "restarts": restarts,
        "leftovers_from_crashes": len(report.leftovers), "planted_orphans": len(planted),
        "gc_deleted": len(swept.deleted),
        "losses": 0, "seconds": round(elapsed, 1)})
