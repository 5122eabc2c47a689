"""Scenario: the web UI's pages with an op of 10,000 versions (``--quick``: 500).

The store is filled by the registry's own code on an in-memory store and its
keys copied to a file store (registering 10,000 versions one by one on disk
takes minutes and measures nothing about the UI), then served by the real
``s3opstore serve --store DIR --port 0``. Measured on loopback:

- each page's API call (``browse_ops``, ``browse_op`` first and last page),
  p50/p95 over one-shot requests, and the first ``browse_op`` after the server
  started (it lists the op's 10,000 entries; later views of the same head reuse
  that listing);
- each page in headless Chromium (Debian's ``/usr/bin/chromium``, driven by
  Playwright): from navigation to the page drawn (``body[data-page]`` set after
  the rows are in the DOM), a fresh tab each time, p50/p95.

The issue's goal: the op list and an op page with 10,000 versions render in
under a second on loopback.

``python -m benchmarks.ui_pages [--quick]`` runs it alone and prints the tables.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import Bench, Result, Table, fmt, stats
from s3opstore import OpStore, Version
from s3opstore.stores.memory import MemoryStore

NAME = "ui"
TITLE = "10. Web UI: pages of an op with 10,000 versions, in Chromium"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
_T0 = datetime(2024, 1, 1, tzinfo=UTC)
_BIG = "big_model"


def _v(tag: str, i: int) -> Version:
    return Version.from_parts(major=tag, minor=str(i // 100), patch=str(i),
                              creation_time=_T0 + timedelta(seconds=i))


def fill(target: Path, versions: int, ops: int) -> None:
    """``versions`` versions of one op, ``ops`` small ops in a chain, a pipeline, aliases."""
    memory = OpStore(MemoryStore(), single_writer=True)
    for i in range(versions):
        memory.register_version(_BIG, _v("big", i))
    for i in range(max(0, versions - 60), versions):
        memory.save_op_bytes(_BIG, _v("big", i), b"weights" * 50 + str(i).encode())
    for alias, i in (("production", versions - 3), ("staging", versions - 1),
                     ("canary", versions // 2)):
        memory.set_alias(_BIG, alias, _v("big", i))
    for i in range(ops):
        memory.register_valid_link(f"step_{i + 1:03d}" if i + 1 < ops else _BIG,
                                   f"step_{i:03d}", _v(f"step{i}", 0))
    memory.register_valid_link(None, _BIG, _v("big", versions - 1))
    memory.register_pipeline("big_pipeline", _BIG)
    disk = OpStore.from_url(str(target))
    for info in memory.store.list(""):
        disk.store.put(info.key, memory.store.get(info.key).data)


class _Served:
    def __init__(self, store_dir: Path) -> None:
        script = Path(sys.executable).parent / "s3opstore"
        self.process = subprocess.Popen(
            [str(script), "serve", "--store", str(store_dir), "--port", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1/", self.process.stderr.readline())
        if match is None:
            self.process.kill()
            raise RuntimeError("s3opstore serve did not start")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        # drain the request log, or a full pipe blocks the server
        self._drain = threading.Thread(target=self.process.stderr.read, daemon=True)
        self._drain.start()

    def post(self, route: str, body: dict[str, Any]) -> float:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start = time.perf_counter()
        connection.request("POST", f"/v1/{route}", json.dumps(body),
                           {"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        elapsed = time.perf_counter() - start
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"{route}: {answer.status}")
        return elapsed

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def _browser_loads(url: str, fragments: list[str], reps: int
                   ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per page: seconds from ``goto`` to drawn (tab included), and the page's own
    navigation-start-to-drawn time (the ``s3opstore:drawn`` performance mark)."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {f: [] for f in fragments}
    drawn: dict[str, list[float]] = {f: [] for f in fragments}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(reps):
                for fragment in fragments:  # interleaved, so drift hits all alike
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    start = time.perf_counter()
                    page.goto(f"{url}/ui/{fragment}")
                    page.wait_for_selector("body[data-page]:not([data-page='loading'])",
                                           state="attached")
                    found[fragment].append(time.perf_counter() - start)
                    mark = page.evaluate(
                        "() => performance.getEntriesByName('s3opstore:drawn')[0].startTime")
                    drawn[fragment].append(float(mark) / 1000)
                    context.close()
        finally:
            browser.close()
    return found, drawn


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    versions, ops = (500, 20) if bench.quick else (10_000, 200)
    reps = 3 if bench.quick else 15
    store_dir = bench.workdir / "ui-store"
    started = time.perf_counter()
    fill(store_dir, versions, ops)
    fill_seconds = time.perf_counter() - started
    last_page = -(-versions // 50)
    calls: list[tuple[str, dict[str, Any], str]] = [
        ("browse_ops", {}, "op list"),
        ("browse_op", {"op_name": _BIG}, "op page 1 (newest 50)"),
        ("browse_op", {"op_name": _BIG, "page": last_page}, f"op page {last_page} (oldest)"),
        ("browse_version", {"op_name": _BIG, "version": str(_v("big", versions - 1))},
         "version page")]
    pages = [("#/", "op list"), (f"#/op?name={_BIG}", "op page 1"),
             (f"#/op?name={_BIG}&page={last_page}", f"op page {last_page}"),
             ("#/lineage", f"lineage ({ops + 1} ops)")]
    served = _Served(store_dir)
    try:
        served.post("browse_ops", {})  # the server's imports, once
        cold = served.post("browse_op", {"op_name": _BIG})  # lists the op: not yet kept
        for route, body, _ in calls:
            served.post(route, body)
        api_rows = [["op page 1, first view after start (n=1)", "browse_op",
                     fmt(cold * 1000, 1), ""]]
        result.data["api_op page 1 first view"] = round(cold * 1000, 1)
        for route, body, label in calls:
            s = stats([served.post(route, body) for _ in range(reps)])
            api_rows.append([label, route, fmt(s.median * 1000, 1), fmt(s.p95 * 1000, 1)])
            result.data[f"api_{label}"] = s.json(1000, 1)
        loads, drawn = _browser_loads(served.url, [f for f, _ in pages], reps)
    finally:
        served.stop()
    browser_rows = []
    for fragment, label in pages:
        s = stats(drawn[fragment])
        whole = stats(loads[fragment])
        browser_rows.append([label, fmt(s.median * 1000, 0), fmt(s.p95 * 1000, 0),
                             fmt(whole.median * 1000, 0)])
        result.data[f"browser_{label}"] = s.json(1000, 1)
        result.data[f"browser_with_tab_{label}"] = whole.json(1000, 1)
    result.tables.append(Table(["page's API call", "route", "p50 ms", "p95 ms"], api_rows,
                               f"{versions} versions of one op, {ops + 1} ops, file store, "
                               f"one-shot HTTP connections, {reps} calls each"))
    result.tables.append(Table(
        ["page in Chromium", "p50 ms", "p95 ms", "p50 ms with a new tab"], browser_rows,
        "navigation start to the page drawn (its own clock); last column: from opening a "
        "fresh tab (Playwright's wall clock)"))
    result.notes.append(f"filling the store took {fill_seconds:.1f} s (not part of the figures)")
    return result


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])

    class _Local:
        def __init__(self, workdir: Path) -> None:
            self.quick, self.workdir = quick, workdir

    import tempfile

    with tempfile.TemporaryDirectory(prefix="s3opstore-ui-bench-") as work:
        result = run(_Local(Path(work)))  # type: ignore[arg-type]
    for table in result.tables:
        print(f"\n{table.caption}\n{table.columns}")
        for row in table.rows:
            print(row)
    print(*result.notes, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
