"""Entry points for worker processes in race tests and benchmarks.

Each function opens the store from a URL in the child process (after applying
the given environment), so the parent's clients and threads are never shared.
They must be importable top-level functions for the "spawn" start method.
"""

from __future__ import annotations

import os
import time
from typing import Any

from s3opstore.errors import PreconditionFailedError
from s3opstore.models.version import Version
from s3opstore.stores import IfMatch, open_store


def _env(env: dict[str, str] | None) -> None:
    if env:
        os.environ.update(env)


def create_once(url: str, env: dict[str, str] | None, key: str, body: bytes) -> bool:
    """Try one create-only write; True when this process won."""
    _env(env)
    store = open_store(url)
    try:
        store.put(key, body, mode="create")
        return True
    except PreconditionFailedError:
        return False


def cas_increment(url: str, env: dict[str, str] | None, key: str, times: int) -> int:
    """Increment an integer counter ``times`` with compare-and-swap; return retries."""
    _env(env)
    store = open_store(url)
    retries = 0
    for _ in range(times):
        while True:
            got = store.get(key)
            value = int(got.data)
            try:
                store.put(key, str(value + 1).encode(), mode=IfMatch(got.etag))
                break
            except PreconditionFailedError:
                retries += 1
    return retries


def register_versions(url: str, env: dict[str, str] | None, op: str, worker: int, count: int,
                      link_to: str | None = None) -> list[dict[str, Any]]:
    """Register ``count`` new versions (and links) of ``op``; return what was committed."""
    _env(env)
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url(url)
    committed = []
    for i in range(count):
        version = Version.from_parts(major=f"w{worker}-{i // 5}", minor=f"{i % 5}",
                                     patch=f"{worker}-{i}")
        record = store.register_version(op, version)
        if link_to is not None:
            store.register_valid_link(link_to, op, version)
        committed.append({"vid": record.version.vid, "seq": record.seq,
                          "number": list(record.number), "pid": os.getpid(),
                          "registered_pid": record.registered_pid})
    return committed


def register_same(url: str, env: dict[str, str] | None, op: str, version: str,
                  start_at: float) -> dict[str, Any]:
    """Register one given version, starting as close to ``start_at`` as possible."""
    _env(env)
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url(url)
    store.check_store()
    time.sleep(max(0.0, start_at - time.time()))
    record = store.register_version(op, Version.parse(version))
    return {"seq": record.seq, "number": list(record.number), "str": str(record.version),
            "pid": record.registered_pid}
