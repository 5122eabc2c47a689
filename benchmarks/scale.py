"""Scenario 4: do metadata calls stay flat as one op accumulates versions?

One op is grown through the public API to each level (10, 1,000, 10,000
versions; quick mode 10 and 200), and at each level the scenario-3 calls are
timed and their requests counted. The goal is a ratio (largest level over the
10-version level) of at most 1.2 for everything except the full listing
``get_versions``, which must grow only by ceil(N/1000) LIST pages.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks._common import Bench, RequestCounter, Result, Table, fmt, ratio, stats, timed
from s3opstore import OpStore, Version

NAME = "scale"
TITLE = "4. Scale: cost after 10 / 1,000 / 10,000 versions of one op"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)
OP = "grown"


def _v(i: int) -> Version:
    return Version.from_parts(major=f"m{i // 500}", minor=f"n{i // 50}", patch=str(i),
                              creation_time=_T0 + timedelta(milliseconds=i))


def _calls(store: OpStore, level: int, next_new: Callable[[], int],
           calls: int) -> dict[str, Callable[[int], Any]]:
    down = f"down-{level}"
    step = max(1, (level - 1) // calls)
    return {
        "register_version (new)": lambda i: store.register_version(OP, _v(next_new())),
        "register_valid_link (version registered)": lambda i: store.register_valid_link(
            down, OP, _v(min(level - 2, i * step))),
        "latest_version": lambda i: store.latest_version(OP),
        "get_version (older)": lambda i: store.get_version(OP, _v(i * step % (level - 1))),
        "get_validated_links (R links)": lambda i: store.get_validated_links("down-10", OP),
        "pipeline_exists": lambda i: store.pipeline_exists("scale-pipe"),
        "get_versions (full listing)": lambda i: store.get_versions(OP),
    }


def _measure(ops: dict[str, Callable[[int], Any]], counter: RequestCounter, calls: int,
             listing_calls: int) -> dict[str, tuple[list[float], float]]:
    out: dict[str, tuple[list[float], float]] = {}
    for name, call in ops.items():
        n = listing_calls if "listing" in name else calls
        times, requests = [], 0
        for i in range(n):
            counter.reset()
            times.append(timed(lambda call=call, i=i: call(i)))  # type: ignore[misc]
            requests += counter.total
        out[name] = (times, requests / n)
    return out


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    levels = [10, 200] if bench.quick else [10, 1000, 10_000]
    calls = 8 if bench.quick else 30
    store, counter, _client = bench.opstore(bench.prefix("scale"))
    store.register_pipeline("scale-pipe", OP)
    registered = 0
    seeding: list[dict[str, Any]] = []
    per_level: dict[int, dict[str, tuple[list[float], float]]] = {}

    def next_new() -> int:
        nonlocal registered
        registered += 1
        return registered - 1

    for level in levels:
        start, before = time.perf_counter(), registered
        while registered < level:
            store.register_version(OP, _v(next_new()))
        took = time.perf_counter() - start
        added = registered - before
        seeding.append({"level": level, "added": added, "seconds": round(took, 1),
                        "per_version_ms": round(took / added * 1e3, 2) if added else None})
        listing_calls = calls if level < 1000 else max(3, calls // 6)
        per_level[level] = _measure(_calls(store, level, next_new, calls), counter, calls,
                                    listing_calls)
    base, top = levels[0], levels[-1]
    rows, data = [], {}
    for name in per_level[base]:
        medians = {lv: stats(per_level[lv][name][0]) for lv in levels}
        rel = ratio(medians[top].median, medians[base].median)
        goal = "-" if "listing" in name else ("ok" if rel <= 1.2 else "over 1.2")
        row: list[Any] = [name]
        for lv in levels:
            row += [fmt(medians[lv].median * 1e3), fmt(per_level[lv][name][1], 1)]
        rows.append([*row, fmt(rel), goal])
        entry: dict[str, Any] = {str(lv): {"ms": medians[lv].json(1e3),
                                           "requests_per_call": per_level[lv][name][1]}
                                 for lv in levels}
        entry["ratio_top_to_base"] = round(rel, 3)
        data[name] = entry
    columns = ["operation"]
    for lv in levels:
        columns += [f"median ms @{lv:,}", f"requests @{lv:,}"]
    columns += [f"ratio {top:,}/{base}", "goal <= 1.2"]
    result.tables.append(Table(columns, rows, caption=(
        f"{calls} calls per operation per level ({max(3, calls // 6)} for the full listing "
        "at 1,000+), one process, SeaweedFS on loopback.")))
    budget = {lv: math.ceil(lv / 1000) + 2 for lv in levels}
    listing = "get_versions (full listing)"
    result.notes.append("get_versions budget ceil(N/1000)+2: " + ", ".join(
        f"N={lv:,}: {budget[lv]} (measured {per_level[lv][listing][1]:.0f})" for lv in levels))
    result.notes.append("Seeding through `register_version` in one process: " + "; ".join(
        f"to {s['level']:,}: {s['added']:,} versions in {s['seconds']} s "
        f"({s['per_version_ms']} ms each)" for s in seeding if s["added"]))
    if bench.quick:
        result.notes.append("Quick mode: levels 10 and 200.")
    result.data = {"levels": levels, "operations": data, "seeding": seeding}
    return result
