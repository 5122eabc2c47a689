"""``python -m benchmarks [--quick] [--only a,b] [--out-dir DIR]``.

Starts its own SeaweedFS on loopback, runs the scenarios, and writes
``results.md`` and ``results.json`` (default: next to this file). ``--quick``
uses tiny sizes to prove the benchmarks still work; its figures are not
meant to judge speed. Exit status 1 when a scenario raised.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks._common import Bench, Result, machine_facts
from benchmarks.report import render_markdown, results_from_json

# scenario name -> module, in running order
SCENARIOS = {"requests": "requests_per_op", "transfer": "transfer", "latency": "latency",
             "scale": "scale", "contention": "contention", "warm": "warm",
             "cold_start": "cold_start", "profile": "profile_slowest", "http": "http_face"}
NAMES = list(SCENARIOS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes; finishes in < 2 min")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {NAMES}")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent,
                        help="where results.md and results.json go")
    parser.add_argument("--rerender", action="store_true",
                        help="only rewrite results.md from the results.json in --out-dir")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {NAMES}")
    args.chosen = chosen or NAMES
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rerender:
        saved = json.loads((args.out_dir / "results.json").read_text())
        (args.out_dir / "results.md").write_text(render_markdown(saved, results_from_json(saved)))
        return 0
    started = time.perf_counter()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="s3opstore-bench-") as work, \
            Bench(args.quick, Path(work)) as bench:
        for name, module_name in SCENARIOS.items():
            if name not in args.chosen:
                continue
            module: ModuleType = importlib.import_module(f"benchmarks.{module_name}")
            print(f"== {module.TITLE}", flush=True)
            begin = time.perf_counter()
            try:
                result: Result = module.run(bench)
            except Exception:
                result = Result(module.NAME, module.TITLE, error=traceback.format_exc())
                print(result.error, file=sys.stderr, flush=True)
            result.seconds = time.perf_counter() - begin
            print(f"   done in {result.seconds:.1f} s", flush=True)
            results.append(result)
    document: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "scenarios_run": [r.name for r in results],
        "total_seconds": round(time.perf_counter() - started, 1),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_facts(),
        "results": {r.name: r.to_json() for r in results},
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "results.json").write_text(json.dumps(document, indent=2, sort_keys=False))
    (args.out_dir / "results.md").write_text(render_markdown(document, results))
    print(f"wrote {args.out_dir / 'results.md'} and results.json "
          f"in {document['total_seconds']} s", flush=True)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
