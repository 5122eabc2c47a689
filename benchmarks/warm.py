"""Scenario 6: warm reuse, a Lambda-style loop loading an op's latest bytes.

One process, one store built once (as a Lambda container keeps it), many
"invocations", each wanting the latest version of an op and its bytes.
Strategies compared in the same run, requests counted through botocore:

- plain: ``latest_version`` + ``load_op_bytes`` every time;
- ``CachedLoader`` (``s3opstore.registry.cache``), strict (always correct, retirement
  checked on every load);
- ``CachedLoader`` with ``binding_ttl=60`` (a re-save of other bytes under the
  same version is seen up to 60 s late; a new version at once).

Midway a new version is registered and saved, to show the cache picks it up
on the next invocation (one cold load), then returns to the warm cost.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from benchmarks._common import Bench, KiB, MiB, Result, Table, fmt, ratio, stats, timed
from s3opstore import OpStore, Version
from s3opstore.registry.cache import CachedLoader

NAME = "warm"
TITLE = "6. Warm reuse (Lambda-style loop)"


def _interleaved(cases: dict[str, tuple[Callable[[], Any], Any, Callable[[], None]]], n: int,
                 change_at: int) -> dict[str, list[dict[str, Any]]]:
    """Invocation i of every strategy, then invocation i + 1 of every one, and so on.

    Interleaved, so a burst of load from the neighbours slows every strategy
    alike and the time ratios stay comparable.
    """
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    for i in range(n):
        for name, (invoke, counter, change) in cases.items():
            if i == change_at:
                change()
            counter.reset()
            elapsed = timed(invoke)
            snap = counter.snapshot()
            rows[name].append({"i": i, "seconds": elapsed, "requests": snap["total"],
                               "blob_requests": snap["blob"], "after_change": i == change_at})
    return rows


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    n = 20 if bench.quick else 200
    size = 64 * KiB if bench.quick else 1 * MiB
    cases: dict[str, tuple[Callable[[], Any], Any, Callable[[], None]]] = {}
    for name in ("plain latest_version + load_op_bytes", "CachedLoader (strict)",
                 "CachedLoader (binding_ttl=60 s)"):
        store, counter, _client = bench.opstore(bench.prefix("warm"))
        op = "served-model"
        first = Version.from_parts(major="v1")
        store.register_version(op, first)
        store.save_op_bytes(op, first, os.urandom(size))
        second = Version.from_parts(major="v2")

        def change(store: OpStore = store, op: str = op, second: Version = second) -> None:
            store.register_version(op, second)
            store.save_op_bytes(op, second, os.urandom(size))

        invoke: Callable[[], Any]
        if name.startswith("plain"):
            def invoke(store: OpStore = store, op: str = op) -> Any:
                record = store.latest_version(op)
                assert record is not None
                return store.load_op_bytes(op, record.version)
        else:
            ttl = 60.0 if "ttl" in name else 0.0
            loader = CachedLoader(store, bench.workdir / f"cache-{ttl}", 256 * MiB,
                                  binding_ttl=ttl)
            def invoke(loader: CachedLoader = loader, op: str = op) -> Any:
                return loader.load_latest(op)
        cases[name] = (invoke, counter, change)
    strategies = _interleaved(cases, n, n // 2)

    rows, data = [], {}
    plain_ms = None
    for name, runs in strategies.items():
        # Warm = every invocation except the very first and the one right after the change.
        warm = [r for r in runs if r["i"] != 0 and not r["after_change"]]
        requests = stats([float(r["requests"]) for r in warm])
        ms = stats([r["seconds"] for r in warm])
        blob = sum(r["blob_requests"] for r in warm) / len(warm)
        cold = runs[0]
        changed = next(r for r in runs if r["after_change"])
        plain_ms = plain_ms or ms.median
        rows.append([name, fmt(requests.median, 1), fmt(requests.min, 0), fmt(requests.max, 0),
                     fmt(blob, 2), fmt(ms.median * 1e3), fmt(ms.p95 * 1e3),
                     fmt(ratio(ms.median, plain_ms)), cold["requests"], changed["requests"]])
        data[name] = {"warm_requests": requests.json(), "warm_blob_requests_per_call": blob,
                      "warm_ms": ms.json(1e3), "first_call_requests": cold["requests"],
                      "after_new_version_requests": changed["requests"],
                      "ratio_to_plain": round(ratio(ms.median, plain_ms), 3)}
    result.tables.append(Table(
        ["strategy", "requests per warm invocation (median)", "min", "max",
         "blob requests per warm invocation", "warm ms median", "warm ms p95",
         "time ratio to plain", "requests on first invocation",
         "requests right after a new version"], rows,
        caption=f"{n} invocations in one process, op bytes {size // KiB} KiB, a new version "
        f"registered and saved before invocation {n // 2}; the strategies' invocations "
        "interleaved."))
    result.notes.append(
        "Strict mode needs 3 small requests per warm invocation (a conditional GET of "
        "head.json answered 304, LIST the version's status: archived since?, LIST its newest "
        "byte binding, MaxKeys=1) and stays exactly correct; the TTL mode needs 1 (the head's "
        "conditional GET). One request *and* exact correctness would need the core to "
        "keep the latest version's newest binding digest and status in head.json (a save or "
        "a retirement of the latest version would CAS the head too); see the report.")
    result.data = data
    return result
