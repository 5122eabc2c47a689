"""Stale temp and lock files of the local store: found, removed only when nobody holds them.

Every process here is a real one: writers are SIGKILLed, locks are held by other
processes, and the lock-file race runs writers and a cleaner side by side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore
from s3opstore.stores.local_scratch import ScratchCleaner, scratch_owner
from s3opstore.stores.wrappers import CountingStore, FaultyStore

HOUR = 3600

SLOW_UPLOAD = """
import sys, time
from s3opstore.stores import LocalStore

class Slow:
    def __init__(self):
        self.sent = 0
    def read(self, n=-1):
        if self.sent >= 48 * 2**20:  # 48 MiB written, then stall forever
            print("stalled", flush=True)
            time.sleep(600)
        self.sent += 2**20
        return b"b" * 2**20

LocalStore(sys.argv[1]).upload("ops/m/blobs/sha256/" + "c" * 64, Slow(), size=300 * 2**20)
"""

HOLD_LOCK = """
import sys, time
from s3opstore.stores import LocalStore

with LocalStore(sys.argv[1])._locked(sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() in ("stalled", "held")
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL, reap, and close our end of its pipe (else the pipe leaks, a ResourceWarning)."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stdout is not None
    proc.stdout.close()


def _age(path: Path, seconds: float) -> None:
    """Pretend ``seconds`` have passed since ``path`` was last written."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _tmp_files(root: Path) -> list[Path]:
    return sorted((root / ".s3opstore-tmp").iterdir())


def _lock_files(root: Path) -> list[Path]:
    return sorted((root / ".s3opstore-locks").iterdir())


def test_gc_removes_the_temp_file_of_a_sigkilled_upload(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    writer = _spawn(SLOW_UPLOAD, str(root))
    try:
        (tmp,) = _tmp_files(root)
        assert tmp.stat().st_size >= 48 * 2**20
        _age(tmp, 2 * HOUR)
        # the writer is alive and holds its temp file: nothing may remove it, at any age
        assert store.scratch_leftovers(timedelta(0)) == []
        assert store.remove_scratch_leftovers(timedelta(0)) == []
        assert tmp.exists()
    finally:
        _kill(writer)
    assert writer.returncode == -signal.SIGKILL
    assert _tmp_files(root) == [tmp]
    opstore = OpStore(store)

    report = fsck(opstore)
    assert report.ok
    assert any("1 temp files of dead writers" in note for note in report.notes)

    assert collect_garbage(opstore, grace_hours=3).deleted == []  # younger than --grace
    dry = collect_garbage(opstore, grace_hours=0.5, dry_run=True)
    assert [item.key for item in dry.deleted] == [f".s3opstore-tmp/{tmp.name}"]
    assert tmp.exists()

    swept = collect_garbage(opstore, grace_hours=0.5)
    (item,) = swept.deleted
    assert item.key == f".s3opstore-tmp/{tmp.name}"
    assert item.size >= 48 * 2**20
    assert "temp file" in item.reason
    assert _tmp_files(root) == []
    assert store.head("ops/m/blobs/sha256/" + "c" * 64) is None  # never half-visible


def test_lock_files_of_100_keys_go_but_one_in_use_stays(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    for n in range(100):
        store.put(f"k/{n:03d}", b"v")
    locks = _lock_files(root)
    assert len(locks) == 100
    holder = _spawn(HOLD_LOCK, str(root), "k/042")
    try:
        for path in locks:
            _age(path, 2 * HOUR)
        assert len(store.scratch_leftovers(timedelta(hours=1))) == 99
        report = fsck(OpStore(store))
        assert report.ok  # a warning, not a problem
        assert any(note.startswith("warning: 99 unused lock files") for note in report.notes)
        assert store.remove_scratch_leftovers(timedelta(hours=3)) == []  # all younger
        removed = store.remove_scratch_leftovers(timedelta(hours=1))
        assert len(removed) == 99
        assert all(item.kind == "lock" and item.path.startswith(".s3opstore-locks/")
                   for item in removed)
        (kept,) = _lock_files(root)
        assert kept in locks
    finally:
        _kill(holder)
    # the holder is gone (a kill releases a flock): now the last one goes too, via gc
    swept = collect_garbage(OpStore(store), grace_hours=1)
    assert [item.key for item in swept.deleted] == [f".s3opstore-locks/{kept.name}"]
    assert kept not in _lock_files(root)
    store.put("k/042", b"w")  # and the key still works: its lock file is recreated
    assert store.get("k/042").data == b"w"


def test_gc_finds_the_local_store_behind_wrappers_only(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "store")
    assert isinstance(local, ScratchCleaner)
    assert scratch_owner(FaultyStore(CountingStore(local))) is local
    from s3opstore.stores import MemoryStore

    assert scratch_owner(CountingStore(MemoryStore())) is None


CAS_WORKER = """
import json, sys, uuid
from s3opstore.errors import PreconditionFailedError
from s3opstore.stores import IfMatch, LocalStore

store, won = LocalStore(sys.argv[1]), 0
for _ in range(int(sys.argv[2])):
    got = store.get("counter")
    n = json.loads(got.data)["n"]
    try:
        store.put("counter", json.dumps({"n": n + 1, "t": uuid.uuid4().hex}).encode(),
                  mode=IfMatch(got.etag))
        won += 1
    except PreconditionFailedError:
        pass
print(won)
"""

CLEANER = """
import sys, time
from datetime import timedelta
from s3opstore.stores import LocalStore

store, removed, deadline = LocalStore(sys.argv[1]), 0, time.time() + 120
while not __import__("os").path.exists(sys.argv[2]) and time.time() < deadline:
    removed += len(store.remove_scratch_leftovers(timedelta(0)))
print(removed)
"""


@pytest.mark.slow
def test_removing_lock_files_never_lets_two_writers_in(tmp_path: Path) -> None:
    """Two writers compare-and-swap one counter while a third process removes lock
    files as fast as it can (no age limit). If a writer could lock an unlinked lock
    file while another locks its successor, both would pass the ETag check with the
    same ETag and one increment would be lost: the final count would fall short of
    the number of successful swaps."""
    root = tmp_path / "store"
    LocalStore(root).put("counter", json.dumps({"n": 0, "t": ""}).encode())
    stop = tmp_path / "stop"
    cleaner = subprocess.Popen([sys.executable, "-c", CLEANER, str(root), str(stop)],
                               stdout=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", CAS_WORKER, str(root), "1500"],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    won = sum(int(w.communicate(timeout=240)[0]) for w in writers)
    stop.touch()
    removed = int(cleaner.communicate(timeout=60)[0])
    final = json.loads(LocalStore(root).get("counter").data)["n"]
    assert removed > 100, "the cleaner hardly ran: the race was not exercised"
    assert won > 0
    assert final == won
