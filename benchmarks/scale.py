"""Scenario 4: do metadata calls stay flat as one op accumulates versions?

One op per level is grown through the public API (10, 1,000, 10,000
versions; quick mode 10 and 200); then the scenario-3 calls are timed on every
level, interleaved (call i on each level before call i + 1), and their
requests counted. The goal is a ratio (largest level over the
10-version level) of at most 1.2 for everything except the full listing
``get_versions``, which must grow only by ceil(N/1000) LIST pages.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks._common import Bench, Result, Table, fmt, ratio, stats, timed
from s3opstore import OpStore, Version

NAME = "scale"
TITLE = "4. Scale: cost after 10 / 1,000 / 10,000 versions of one op"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _v(i: int) -> Version:
    return Version.from_parts(major=f"m{i // 500}", minor=f"n{i // 50}", patch=str(i),
                              creation_time=_T0 + timedelta(milliseconds=i))


class _Grown:
    """One op grown to ``level`` versions, and the calls measured on it."""

    def __init__(self, store: OpStore, level: int, calls: int) -> None:
        self.store, self.level, self.op = store, level, f"grown-{level}"
        self.registered = 0
        self.step = max(1, (level - 1) // calls)

    def new_index(self) -> int:
        self.registered += 1
        return self.registered - 1

    def calls(self) -> dict[str, Callable[[int], Any]]:
        store, op, level, step = self.store, self.op, self.level, self.step
        return {
            "register_version (new)": lambda i: store.register_version(
                op, _v(self.new_index())),
            "register_valid_link (version registered)": lambda i: store.register_valid_link(
                f"down-{i}", op, _v(i * step % (level - 1))),
            "latest_version": lambda i: store.latest_version(op),
            "get_version (older)": lambda i: store.get_version(op, _v(i * step % (level - 1))),
            "get_validated_links (10 links)": lambda i: store.get_validated_links("down", op),
            "pipeline_exists": lambda i: store.pipeline_exists("scale-pipe"),
            "get_versions (full listing)": lambda i: store.get_versions(op),
        }


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    levels = [10, 200] if bench.quick else [10, 1000, 10_000]
    # A call is a millisecond or two, so a median of 30 moved 10% between runs (one
    # noisy millisecond is enough); 90 cost a few seconds more. The full listing at
    # 10,000 versions is 10 LIST pages (about 0.6 s): 45 of them, where 15 moved 22%.
    calls = 8 if bench.quick else 90
    listing_calls = calls if bench.quick else 45
    prefix = bench.prefix("scale")
    store, counter, _client = bench.opstore(prefix)
    store.register_pipeline("scale-pipe", "grown-10")
    seeding: list[dict[str, Any]] = []
    grown = {level: _Grown(store, level, calls) for level in levels}
    for level, op in grown.items():
        start = time.perf_counter()
        while op.registered < level:
            store.register_version(op.op, _v(op.new_index()))
        for i in range(10):  # the same 10 links on every level
            store.register_valid_link("down", op.op, _v(i))
        took = time.perf_counter() - start
        seeding.append({"level": level, "added": level, "seconds": round(took, 1),
                        "per_version_ms": round(took / level * 1e3, 2)})
    # Interleaved: call i of every operation on every level before call i + 1, so load
    # drifting during the run hits all levels alike; the levels take turns going first.
    per_level: dict[int, dict[str, tuple[list[float], float]]] = {
        level: {} for level in levels}
    tables = {level: op.calls() for level, op in grown.items()}
    for i in range(calls):
        for name in tables[levels[0]]:
            if "listing" in name and i >= listing_calls:
                continue
            for level in (levels if i % 2 == 0 else levels[::-1]):
                counter.reset()
                elapsed = timed(lambda c=tables[level][name], i=i: c(i))  # type: ignore[misc]
                times, requests = per_level[level].get(name, ([], 0.0))
                per_level[level][name] = ([*times, elapsed], requests + counter.total)
    for level in levels:
        for name, (times, requests) in per_level[level].items():
            per_level[level][name] = (times, requests / len(times))
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
        f"{calls} calls per operation per level ({listing_calls} for the full listing), one "
        "op per level, calls interleaved across levels (the levels take turns going first), one "
        "process, SeaweedFS on loopback.")))
    budget = {lv: math.ceil(lv / 1000) + 2 for lv in levels}
    listing = "get_versions (full listing)"
    result.notes.append("get_versions budget ceil(N/1000)+2: " + ", ".join(
        f"N={lv:,}: {budget[lv]} (measured {per_level[lv][listing][1]:.0f})" for lv in levels))
    result.notes.append("Seeding through `register_version` in one process: " + "; ".join(
        f"to {s['level']:,}: {s['added']:,} versions in {s['seconds']} s "
        f"({s['per_version_ms']} ms each)" for s in seeding))
    if bench.quick:
        result.notes.append("Quick mode: levels 10 and 200.")
    biggest = grown[levels[-1]]
    bench.shared["scale"] = {"prefix": prefix, "op": biggest.op, "versions": biggest.registered}
    result.data = {"levels": levels, "operations": data, "seeding": seeding}
    return result
