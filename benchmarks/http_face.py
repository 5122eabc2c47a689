"""Scenario 9: the HTTP face, ``s3opstore serve`` driven the way Chariots' client drives it.

The server is the real command (``s3opstore serve --store DIR --port 0``) in
its own process, on a file store, so the figures are the HTTP layer's and not
S3's. In the same run:

- the raw round-trip floor: ``POST /v1/nope`` (an empty 404 answered without
  touching the store), on a kept-alive connection and on a fresh one;
- each seed route, p50/p95, kept-alive and one-shot (a new TCP connection per
  call, as ``requests.post`` in Chariots' client does), interleaved round-robin
  with the floor so drift hits all alike;
- the store's own cost of each route's work: the same OpStore call in this
  process on the same directory. The goal is route p50 <= 1.5 x (floor p50 +
  store p50);
- the register rate: ``register_valid_link`` of new versions until the op has
  N versions, one-shot connections;
- 1/4/8/64 clients at once, each with one-shot connections: requests per
  second and connection errors (resets). 64 clients start on one barrier.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import Bench, Result, Table, fmt, ratio, stats
from s3opstore import OpStore, Version

NAME = "http"
TITLE = "9. HTTP face: `s3opstore serve` with Chariots' request pattern"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)
_HEADERS = {"Content-Type": "application/json"}


def _v(tag: str, i: int) -> Version:
    return Version.from_parts(major=tag, minor=str(i // 10), patch=str(i),
                              creation_time=_T0 + timedelta(seconds=i))


class _Server:
    def __init__(self, store_dir: Path) -> None:
        script = Path(sys.executable).parent / "s3opstore"
        self.process = subprocess.Popen(
            [str(script), "serve", "--store", str(store_dir), "--port", "0", "--workers", "8"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1/", line)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"serve did not start: {line!r}")
        self.port = int(match.group(1))
        # the request log must be drained or a full pipe stalls the server
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


class _Client:
    """Chariots' requests: POST JSON, 200 required; kept-alive or one connection per call."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: dict[str, Any], *, keep: bool, want: int = 200) -> Any:
        conn = self.conn if keep else http.client.HTTPConnection("127.0.0.1", self.port,
                                                                 timeout=60)
        try:
            conn.request("POST", path, body=json.dumps(body), headers=_HEADERS)
            response = conn.getresponse()
            data = response.read()
        finally:
            if not keep:
                conn.close()
        if response.status != want:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        return json.loads(data)


def _routes(store: OpStore, calls: int) -> dict[str, tuple[Callable[[int], tuple[str, Any]],
                                                        Callable[[int], Any]]]:
    """name -> (HTTP path and body of the i-th call, the same work on the OpStore)."""
    down, up, pipe, blob = "down", "up", "pipe", base64.b64encode(os.urandom(1024)).decode()
    for i in range(10):
        store.register_valid_link(down, up, _v("up", i))
    store.register_pipeline(pipe, down)
    store.save_op_bytes(up, _v("up", 0), base64.b64decode(blob))
    for i in range(4 * calls + 2):
        store.register_version("saved", _v("saved", i))
    v0 = str(_v("up", 0))
    return {
        "pipeline_exists": (
            lambda i: ("/v1/pipeline_exists", {"pipeline_name": pipe}),
            lambda i: store.pipeline_exists(pipe)),
        "get_all_versions_of_op (10)": (
            lambda i: ("/v1/get_all_versions_of_op", {"desired_op_name": up}),
            lambda i: store.get_versions(up)),
        "get_validated_links (10)": (
            lambda i: ("/v1/get_validated_links", {"downstream_op_name": down,
                                                   "upstream_op_name": up}),
            lambda i: store.get_validated_links(down, up)),
        "get_op_bytes_for_version (1 KiB)": (
            lambda i: ("/v1/get_op_bytes_for_version", {"desired_op_name": up, "version": v0}),
            lambda i: store.load_op_bytes(up, v0)),
        "save_op_bytes (1 KiB)": (
            lambda i: ("/v1/save_op_bytes", {"op_name": "saved", "version": str(_v("saved", i)),
                                             "bytes": blob}),
            lambda i: store.save_op_bytes("saved", _v("saved", 2 * calls + i),
                                          base64.b64decode(blob))),
        "register_valid_link (new version)": (
            lambda i: ("/v1/register_valid_link", {
                "downstream_op_name": "ldown", "upstream_op_name": "lup",
                "upstream_op_version": str(_v("lup", i))}),
            lambda i: store.register_valid_link("sdown", "sup", _v("sup", i))),
        "register_new_pipeline": (
            lambda i: ("/v1/register_new_pipeline", {"pipeline_name": f"p{i}",
                                                     "last_op_name": "last"}),
            lambda i: store.register_pipeline(f"s{i}", "slast")),
    }


def _latency(client: _Client, store: OpStore, calls: int) -> tuple[Table, dict[str, Any]]:
    routes = _routes(store, calls)
    floor: dict[bool, list[float]] = {True: [], False: []}
    times: dict[tuple[str, bool], list[float]] = {}
    library: dict[str, list[float]] = {name: [] for name in routes}
    for i in range(calls):
        for keep in (True, False):
            start = time.perf_counter()
            client.post("/v1/nope", {}, keep=keep, want=404)
            floor[keep].append(time.perf_counter() - start)
            for name, (http_call, _) in routes.items():
                path, body = http_call(2 * i + (0 if keep else 1))
                start = time.perf_counter()
                client.post(path, body, keep=keep)
                times.setdefault((name, keep), []).append(time.perf_counter() - start)
        for name, (_, direct) in routes.items():
            start = time.perf_counter()
            direct(i)
            library[name].append(time.perf_counter() - start)
    rows: list[list[Any]] = []
    data: dict[str, Any] = {"floor": {}, "routes": {}}
    for keep in (True, False):
        mode = "keep-alive" if keep else "one-shot"
        f = stats(floor[keep])
        data["floor"][mode] = f.json(1000)
        rows.append([f"floor: empty 404 ({mode})", fmt(f.median * 1000), fmt(f.p95 * 1000),
                     "", "", ""])
        for name in routes:
            s = stats(times[(name, keep)])
            lib = stats(library[name])
            goal = ratio(s.median, f.median + lib.median)
            data["routes"][f"{name} ({mode})"] = {**s.json(1000), "store_p50": round(
                lib.median * 1000, 3), "vs_floor_plus_store": round(goal, 2)}
            rows.append([f"{name} ({mode})", fmt(s.median * 1000), fmt(s.p95 * 1000),
                         fmt(lib.median * 1000), fmt(goal), "yes" if goal <= 1.5 else "NO"])
    table = Table(["request", "p50 ms", "p95 ms", "store's own p50 ms",
                   "p50 / (floor + store)", "within 1.5x"], rows,
                  f"{calls} calls each, interleaved; file store; server and client on one "
                  "machine")
    return table, data


def _register_rate(client: _Client, target: int) -> tuple[list[Any], float]:
    start = time.perf_counter()
    for i in range(target):
        client.post("/v1/register_valid_link", {"downstream_op_name": None,
                                                "upstream_op_name": "rate",
                                                "upstream_op_version": str(_v("rate", i))},
                    keep=False)
    seconds = time.perf_counter() - start
    count = len(client.post("/v1/get_all_versions_of_op", {"desired_op_name": "rate"},
                            keep=True)["all_versions"])
    assert count == target, count
    return [f"register_valid_link to {target} versions (one-shot)", fmt(target / seconds, 1),
            fmt(seconds, 2)], target / seconds


def _clients(port: int, n: int, per_client: int) -> dict[str, Any]:
    barrier = threading.Barrier(n)
    errors: list[str] = []
    done = [0]
    lock = threading.Lock()

    def run() -> None:
        client = _Client(port)
        barrier.wait(timeout=60)
        for _ in range(per_client):
            try:
                client.post("/v1/pipeline_exists", {"pipeline_name": "pipe"}, keep=False)
                with lock:
                    done[0] += 1
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                with lock:
                    errors.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(n)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    seconds = time.perf_counter() - start
    return {"clients": n, "requests": done[0], "errors": len(errors),
            "error_kinds": sorted(set(errors)), "per_second": round(done[0] / seconds, 1)}


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    calls = 15 if bench.quick else 150
    target = 100 if bench.quick else 5000  # the issue compared rates to 5,000 versions
    per_client = 3 if bench.quick else 25
    store_dir = bench.workdir / "http-store"
    server = _Server(store_dir)
    try:
        client = _Client(server.port)
        store = OpStore.from_url(str(store_dir))
        table, data = _latency(client, store, calls)
        result.tables.append(table)
        rate_row, rate = _register_rate(client, target)
        result.tables.append(Table(["workload", "per second", "seconds"], [rate_row],
                                   "a new version per call, each on a fresh connection"))
        loads = [_clients(server.port, n, per_client) for n in (1, 4, 8, 64)]
        result.tables.append(Table(
            ["clients at once", "requests", "requests/s", "connection errors"],
            [[c["clients"], c["requests"], fmt(c["per_second"], 1), c["errors"]]
             for c in loads],
            f"pipeline_exists, {per_client} one-shot calls per client, all clients started "
            "on one barrier"))
        data.update(register_rate=round(rate, 1), clients=loads)
        result.data = data
        worst = max(v["vs_floor_plus_store"] for v in data["routes"].values())
        result.notes.append(
            f"Worst route p50 / (floor p50 + store p50): {worst:.2f} (goal <= 1.5). "
            f"64 simultaneous one-shot clients: {loads[-1]['errors']} connection errors.")
    finally:
        server.stop()
    return result
