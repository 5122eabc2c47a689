"""Scenario 3: metadata latency per call, against one raw tiny GET (the round-trip floor).

Calls are interleaved round-robin (raw GET, then each operation, repeated) so
load drifting during the run hits every operation alike. Each ratio is the
operation's median over the raw ``get_object`` median of the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks._common import Bench, RequestCounter, Result, Table, fmt, ratio, stats, timed
from s3opstore import OpStore, Version

NAME = "latency"
TITLE = "3. Metadata latency"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _v(tag: str, i: int) -> Version:
    return Version.from_parts(major=tag, minor=str(i // 10), patch=str(i),
                              creation_time=_T0 + timedelta(seconds=i))


def operations(store: OpStore, client: Any, bucket: str, tiny_key: str,
               calls: int) -> dict[str, Callable[[int], Any]]:
    """Seed a small registry; return name -> call(i) (the i-th call of that operation)."""
    listed, up, down, pipe = "listed", "up", "down", "pipe"
    for i in range(10):
        store.register_valid_link(down, listed, _v("listed", i))
    for i in range(calls):  # versions whose links are registered during the run
        store.register_version(up, _v("up", i))
    store.register_version(up, _v("up", calls))  # so none of them is the latest
    store.register_pipeline(pipe, down)
    return {
        "raw get_object (tiny)": lambda i: client.get_object(
            Bucket=bucket, Key=tiny_key)["Body"].read(),
        "register_version (new)": lambda i: store.register_version("reg", _v("reg", i)),
        "register_valid_link (version registered)": lambda i: store.register_valid_link(
            down, up, _v("up", i)),
        "latest_version": lambda i: store.latest_version(listed),
        "get_versions (10)": lambda i: store.get_versions(listed),
        "get_validated_links (10)": lambda i: store.get_validated_links(down, listed),
        "pipeline_exists": lambda i: store.pipeline_exists(pipe),
    }


def measure(ops: dict[str, Callable[[int], Any]], counter: RequestCounter, calls: int,
            warmup: int = 2) -> tuple[dict[str, list[float]], dict[str, float]]:
    times: dict[str, list[float]] = {name: [] for name in ops}
    requests: dict[str, int] = dict.fromkeys(ops, 0)
    for i in range(-warmup, calls):
        for name, call in ops.items():
            index = i if i >= 0 else calls + 100 + i  # warm-up calls use spare indices
            counter.reset()
            elapsed = timed(lambda call=call, index=index: call(index))  # type: ignore[misc]
            if i >= 0:
                times[name].append(elapsed)
                requests[name] += counter.total
    return times, {name: requests[name] / calls for name in ops}


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    calls = 15 if bench.quick else 150
    prefix = bench.prefix("latency")
    store, counter, client = bench.opstore(prefix)
    tiny_key = f"{prefix}/tiny"
    client.put_object(Bucket=bench.bucket, Key=tiny_key, Body=b"x")
    ops = operations(store, client, bench.bucket, tiny_key, calls + 200)
    times, requests = measure(ops, counter, calls)
    floor = stats(times["raw get_object (tiny)"]).median
    rows, data = [], {}
    for name, samples in times.items():
        s = stats(samples)
        rows.append([name, fmt(s.median * 1e3), fmt(s.p95 * 1e3), fmt(s.min * 1e3),
                     fmt(s.max * 1e3), fmt(ratio(s.median, floor)), fmt(requests[name], 1)])
        data[name] = {"ms": s.json(1e3), "ratio_to_raw_get": round(ratio(s.median, floor), 2),
                      "requests_per_call": requests[name]}
    result.tables.append(Table(
        ["operation", "median ms", "p95 ms", "min ms", "max ms", "ratio to raw GET (median)",
         "requests per call"], rows,
        caption=f"{calls} calls each, interleaved, one process, SeaweedFS on loopback."))
    result.notes.append(
        "The ratio is roughly the number of sequential requests an operation makes plus "
        "its Python work (pydantic validation, JSON); see scenario 1 for request counts.")
    result.data = data
    return result
