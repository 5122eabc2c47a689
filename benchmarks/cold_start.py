"""Scenario 7: cold start, import the Lambda handler and answer one request.

Each sample is a fresh interpreter (``python -c``) timed from the parent's
``Popen`` to the child's exit; the child also reports its own import and
first-request times. Reference rows in the same run: the bare interpreter,
``import boto3``, and ``import s3opstore`` + one ``latest_version``.
The request is a Lambda Function URL event (payload 2.0) for
``POST /v1/get_latest_version``; the store comes from ``S3OPSTORE_URL``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import Bench, Result, Table, fmt, ratio, stats
from s3opstore import Version

NAME = "cold_start"
TITLE = "7. Cold start"

_EVENT = {
    "version": "2.0", "rawPath": "/v1/get_latest_version", "rawQueryString": "",
    "headers": {"content-type": "application/json"},
    "requestContext": {"http": {"method": "POST", "path": "/v1/get_latest_version"},
                       "requestId": "bench"},
    "body": json.dumps({"op_name": "cold-op"}), "isBase64Encoded": False,
}

_HANDLER = f"""
import time, json, sys
t0 = time.perf_counter()
from s3opstore.lambda_handler import handler
t1 = time.perf_counter()
out = handler({_EVENT!r}, None)
t2 = time.perf_counter()
assert out["statusCode"] == 200, out
print(json.dumps({{"import": t1 - t0, "request": t2 - t1}}), file=sys.stderr)
"""

_LIBRARY = """
import time, json, sys
t0 = time.perf_counter()
from s3opstore import OpStore
t1 = time.perf_counter()
record = OpStore.from_url().latest_version("cold-op")
t2 = time.perf_counter()
assert record is not None
print(json.dumps({"import": t1 - t0, "request": t2 - t1}), file=sys.stderr)
"""

_REFERENCES = {
    "python -c pass": "pass",
    "import boto3": "import boto3",
}


def handler_available() -> bool:
    return importlib.util.find_spec("s3opstore.lambda_handler") is not None


def _sample(code: str, env: dict[str, str]) -> dict[str, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=Path(__file__).parent.parent, timeout=120)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"cold-start child failed:\n{out.stderr[-3000:]}")
    inner: dict[str, float] = {"wall": wall}
    lines = [line for line in out.stderr.splitlines() if line.startswith("{")]
    if lines:
        inner.update(json.loads(lines[-1]))
    return inner


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    repeats = 3 if bench.quick else 10
    prefix = bench.prefix("cold")
    store, _counter, _client = bench.opstore(prefix)
    store.register_version("cold-op", Version.from_parts(major="cold"))
    env = {**os.environ, **bench.env(), "S3OPSTORE_URL": bench.url(prefix)}
    cases: dict[str, str] = dict(_REFERENCES)
    cases["import s3opstore + OpStore.latest_version"] = _LIBRARY
    uses_handler = handler_available()
    if uses_handler:
        cases["import s3opstore.lambda_handler + handler(event)"] = _HANDLER
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, code in cases.items():  # interleaved
            samples[name].append(_sample(code, env))
    floor = stats([s["wall"] for s in samples["python -c pass"]]).median
    rows, data = [], {}
    for name, runs in samples.items():
        wall = stats([s["wall"] for s in runs])
        imp = stats([s["import"] for s in runs if "import" in s])
        req = stats([s["request"] for s in runs if "request" in s])
        rows.append([name, fmt(wall.median * 1e3, 0), fmt(wall.min * 1e3, 0),
                     fmt(wall.max * 1e3, 0), fmt(imp.median * 1e3, 0),
                     fmt(req.median * 1e3, 0), fmt(ratio(wall.median, floor))])
        data[name] = {"wall_ms": wall.json(1e3, 1), "import_ms": imp.json(1e3, 1),
                      "first_request_ms": req.json(1e3, 1),
                      "ratio_to_bare": round(ratio(wall.median, floor), 3)}
    result.tables.append(Table(
        ["case", "wall ms median", "min", "max", "import ms (in child)",
         "first request ms (in child)", "ratio to bare interpreter"], rows,
        caption=f"{repeats} fresh interpreters per case, interleaved; wall = Popen to exit."))
    if not uses_handler:
        result.notes.append("`s3opstore.lambda_handler` is not importable in this checkout: "
                            "only the library path was measured.")
    result.notes.append("The first request includes building the boto3 client (the handler "
                        "imports boto3 lazily, on the first request).")
    result.data = {"uses_handler": uses_handler, "cases": data}
    return result
