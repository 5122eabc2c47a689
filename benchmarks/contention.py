"""Scenario 5: many writer processes, one shared op or one op each.

W spawned processes (1, 4, 16) each register ``count`` new versions and a
link for each, either all on one shared op or each on its own op. Processes
wait on a barrier (after imports and the store probe), so the measured
window is only the registrations. Each worker counts, through botocore
events, its PUTs to the op's ``head.json`` and which of them lost their
compare-and-swap race (412/409): with group commit (design.md, D18) one head
write may commit several versions, so lost races are counted, not inferred.
Afterwards the parent checks nothing was lost: every committed version listed
once, sequence numbers dense, every link present.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from typing import Any

from benchmarks._common import Bench, Result, Table, fmt, ratio_interval, stats
from s3opstore import OpStore, RetryPolicy, Version

NAME = "contention"
TITLE = "5. Contention: concurrent writer processes"


def _version(op: str, worker: int, i: int) -> Version:
    return Version.from_parts(major=f"{op}-w{worker}-{i // 4}", minor=str(i % 4),
                              patch=f"{worker}-{i}")


def worker(url: str, env: dict[str, str], op: str, link_to: str, index: int, count: int,
           barrier: Any, results: Any, retry: dict[str, Any] | None = None) -> None:
    """Spawn-safe entry point: register ``count`` versions (+ links) of ``op``.

    ``retry``: RetryPolicy fields to use instead of its defaults (for comparing them).
    """
    os.environ.update(env)
    store = OpStore.from_url(url, retry=RetryPolicy(**retry) if retry else None)
    store.check_store()
    client = store.store.client  # type: ignore[attr-defined]
    head_puts, head_lost, requests = [0], [0], [0]
    pending = [False]  # the request in flight is a head PUT
    statuses: Counter[int] = Counter()

    def count_request(**_: Any) -> None:
        requests[0] += 1

    def before_send(request: Any = None, **_: Any) -> None:
        pending[0] = request is not None and request.method == "PUT" and str(
            request.url).split("?")[0].endswith("/head.json")
        if pending[0]:
            head_puts[0] += 1

    def after_call(http_response: Any = None, **_: Any) -> None:
        if http_response is not None and http_response.status_code in (409, 412):
            statuses[int(http_response.status_code)] += 1
            if pending[0]:
                head_lost[0] += 1

    client.meta.events.register("before-send.s3.PutObject", before_send)
    client.meta.events.register("after-call.s3.PutObject", after_call)
    client.meta.events.register("before-send.s3", count_request)
    barrier.wait()
    requests[0] = 0
    start = time.time()
    committed = []
    errors = []
    for i in range(count):
        version = _version(op, index, i)
        try:
            record = store.register_version(op, version)
            store.register_valid_link(link_to, op, version)
            committed.append(record.version.vid)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    end = time.time()
    results.put({"index": index, "op": op, "start": start, "end": end, "committed": committed,
                 "head_puts": head_puts[0], "head_lost": head_lost[0], "requests": requests[0],
                 "status_412": statuses[412],
                 "status_409": statuses[409], "errors": errors})


def _round(bench: Bench, workers: int, shared: bool, count: int,
           retry: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    prefix = bench.prefix("contention")
    url, env = bench.url(prefix), bench.env()
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(
        url, env, "shared" if shared else f"op{i}", "down", i, count, barrier, queue, retry))
        for i in range(workers)]
    for proc in procs:
        proc.start()
    outs = [queue.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    store, _counter, _client = bench.opstore(prefix)
    lost, problems = 0, []
    for op in sorted({o["op"] for o in outs}):
        expected = {vid for o in outs if o["op"] == op for vid in o["committed"]}
        records = store.get_versions(op)
        vids = [r.version.vid for r in records]
        if [r.seq for r in records] != list(range(len(records))):
            problems.append(f"{op}: sequence numbers not dense")
        if len(vids) != len(set(vids)) or set(vids) != expected:
            lost += len(expected - set(vids))
            problems.append(f"{op}: {len(expected)} committed, {len(set(vids))} listed")
        links = {v.vid for v in store.get_validated_links("down", op)}
        if links != expected:
            problems.append(f"{op}: {len(expected)} links expected, {len(links)} found")
    commits = sum(len(o["committed"]) for o in outs)
    window = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    head_puts = sum(o["head_puts"] for o in outs)
    head_lost = sum(o["head_lost"] for o in outs)
    errors = [e for o in outs for e in o["errors"]]
    return {"workers": workers, "shared": shared, "commits": commits, "seconds": window,
            "per_second": commits / window if window else 0.0,
            "retries_per_commit": head_lost / commits if commits else 0.0,
            "versions_per_head_write": (commits / (head_puts - head_lost)
                                        if head_puts > head_lost else 0.0),
            "requests_per_commit": (sum(o["requests"] for o in outs) / commits
                                    if commits else 0.0),
            "status_412": sum(o["status_412"] for o in outs),
            "status_409": sum(o["status_409"] for o in outs),
            "lost": lost, "problems": problems, "errors": errors}


# Versions each process registers in a full run. A run's window ends when its last
# process does, and the last few finish on their own: a ramp-down of about a second
# whatever the run's length, slower on a shared op than on one op each. With 15 versions
# the last tenth of the versions took 17-28% of the shared op's window and 11-14% of the
# 16 ops' 3 s one, whose rate varied from 68 to 104 versions/s; with 40 the windows are
# about 8 and 15 s, and the ratio measures 16 writers at work.
VERSIONS_PER_PROCESS = 40


def plan(quick: bool) -> tuple[list[int], int, int, int, float]:
    """(worker counts, versions per worker, min pairs, max pairs, time cap per count)."""
    if quick:
        return [1, 4], 4, 1, 1, 0.0
    return [1, 4, 16], VERSIONS_PER_PROCESS, 3, 6, 300.0


def _pairs(bench: Bench, workers: int, count: int, min_pairs: int, max_pairs: int,
           cap: float) -> tuple[list[dict[str, Any]], list[float]]:
    """Rounds on one shared op and on ``workers`` ops, pair by pair, alternating which
    goes first, until the ratio's 95% interval is within +-10% or the cap is hit."""
    rounds, ratios, began = [], [], time.perf_counter()
    for index in range(max_pairs):
        pair = {}
        for shared in ((True, False) if index % 2 == 0 else (False, True)):
            pair[shared] = _round(bench, workers, shared, count)
            rounds.append(pair[shared])
        if pair[False]["per_second"]:
            ratios.append(pair[True]["per_second"] / pair[False]["per_second"])
        if index + 1 >= min_pairs and (ratio_interval(ratios).spread <= 0.10
                                       or time.perf_counter() - began >= cap):
            break
    return rounds, ratios


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    worker_counts, count, min_pairs, max_pairs, cap = plan(bench.quick)
    rounds: list[dict[str, Any]] = []
    pair_ratios: dict[str, Any] = {}
    for workers in worker_counts:
        if workers == 1:  # one worker on one op is the same thing as one op each
            rounds += [_round(bench, 1, True, count) for _ in range(min(2, min_pairs))]
            continue
        runs, ratios = _pairs(bench, workers, count, min_pairs, max_pairs, cap)
        rounds += runs
        pair_ratios[str(workers)] = ratio_interval(ratios).json()
    rows, data = [], []
    for workers in worker_counts:
        for shared in (True, False):
            group = [r for r in rounds if r["workers"] == workers and r["shared"] == shared]
            if not group:
                continue
            rate = stats([r["per_second"] for r in group])
            retries = stats([r["retries_per_commit"] for r in group])
            batch = stats([r.get("versions_per_head_write", 1.0) for r in group])
            requests = stats([r["requests_per_commit"] for r in group])
            intact = all(not r["problems"] and r["lost"] == 0 for r in group)
            failed = [e for r in group for e in r["errors"]]
            label = "1 shared op" if shared else f"{workers} distinct ops"
            interval = pair_ratios.get(str(workers)) if shared else None
            rows.append([workers, label, group[0]["commits"], fmt(rate.median, 1),
                         fmt(rate.min, 1), fmt(rate.max, 1),
                         _interval_cell(interval) if interval else "", fmt(retries.median),
                         fmt(retries.max), fmt(batch.median), fmt(requests.median, 1),
                         sum(r["status_412"] for r in group),
                         sum(r["status_409"] for r in group), len(failed),
                         "yes" if intact else "NO: " + "; ".join(
                             p for r in group for p in r["problems"])])
            if failed:
                result.notes.append(
                    f"{workers} processes, {label}: {len(failed)} registration(s) raised "
                    f"(all runs), first: {failed[0]}. What those writers did commit is all "
                    "present.")
            data.append({"workers": workers, "shared": shared, "runs": group})
    result.tables.append(Table(
        ["processes", "ops", "versions per run", "versions/s median", "min", "max",
         "one op / distinct ops [95% CI]", "lost races per commit (median)", "(max)",
         "versions per head write (median)",
         "requests per version + link (median)",
         "412s (all runs)", "409s (all runs)", "writer errors (all runs)", "nothing lost"],
        rows, caption=f"{count} versions (each with a link) per process, spawned processes, "
        "SeaweedFS on loopback, 2 CPUs shared by all processes and the server. Shared and "
        "distinct runs alternate pair by pair; the ratio is the geometric mean of the "
        "per-pair ratios of versions/s, with its 95% interval."))
    result.notes.append(
        "Lost races per commit = head.json PUTs answered 412 or 409, counted through "
        "botocore events in each worker; versions per head write = committed versions "
        "over the head PUTs that landed (above 1: a group commit, design.md D18, took "
        "waiting writers' versions along). Requests per version + link: every HTTP request "
        "the writers sent (retries included) over the versions committed; a lost race "
        "costs the failed head PUT (a 412, not read back), the intent the writer leaves "
        "where others wait (a PUT; the writer that commits it deletes it with the others "
        "its CAS answered, one DeleteObjects per batch) and a GET of the head per look "
        "until its version is committed, by another writer's batch or its own; the "
        "link's event is event 0 of its version's own link chain (one PUT, which no other "
        "writer contends; in the op's chain before store format 2).")
    result.data = {"rounds": data, "count_per_worker": count, "pair_ratios": pair_ratios}
    return result


def _interval_cell(interval: dict[str, Any]) -> str:
    if interval.get("low") is None:
        return fmt(interval["ratio"])
    return f"{fmt(interval['ratio'])} [{fmt(interval['low'])}, {fmt(interval['high'])}]"
