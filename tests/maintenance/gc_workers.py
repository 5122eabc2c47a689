"""Process entry points for the gc-versus-writer race (spawn-safe, top level)."""

from __future__ import annotations

import io
import os
import random
import time
from typing import Any


def _open(url: str, env: dict[str, str]) -> Any:
    os.environ.update(env)
    from s3opstore.registry.opstore import OpStore

    return OpStore.from_url(url)


def writer(url: str, env: dict[str, str], op: str, worker: int, count: int) -> list[str]:
    """Each round plays a writer that died after uploading (an orphan blob), then a
    writer that saves the same bytes and so reuses that orphan while gc sweeps."""
    import hashlib

    from s3opstore.models.keys import blob_key
    from s3opstore.models.version import Version

    store = _open(url, env)
    store.check_store()
    rng = random.Random(worker)
    committed = []
    for i in range(count):
        data = f"worker {worker} round {i} ".encode() * 50
        key = blob_key(op, hashlib.sha256(data).hexdigest())
        store.store.upload(key, io.BytesIO(data), size=len(data))  # the dead writer's leftover
        time.sleep(rng.uniform(0, 0.03))
        version = Version.from_parts(f"w{worker}", f"{i}")
        store.register_version(op, version)
        store.save_op_bytes(op, version, data)
        committed.append(str(version))
    return committed


def collector(url: str, env: dict[str, str], until: float) -> dict[str, int]:
    """Run gc with a zero grace period, over and over, until ``until``."""
    from s3opstore.maintenance.gc import collect_garbage

    store = _open(url, env)
    totals = {"runs": 0, "deleted": 0, "restored": 0}
    while time.time() < until:
        report = collect_garbage(store, grace_hours=0)
        totals["runs"] += 1
        totals["deleted"] += len(report.deleted)
        totals["restored"] += len(report.restored)
    return totals
