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
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks._common import Bench, Result, machine_facts
from benchmarks.report import compare_runs, merge_stability, render_markdown, results_from_json

# scenario name -> module, in running order
SCENARIOS = {"requests": "requests_per_op", "transfer": "transfer", "latency": "latency",
             "scale": "scale", "contention": "contention", "warm": "warm",
             "cold_start": "cold_start", "profile": "profile_slowest", "http": "http_face",
             "ui": "ui_pages", "signing": "signing"}
NAMES = list(SCENARIOS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes; finishes in < 2 min")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {NAMES}")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent,
                        help="where results.md and results.json go")
    parser.add_argument("--max-size", type=int, default=0, metavar="MIB",
                        help="transfer sizes up to this many MiB only (default: all)")
    parser.add_argument("--check-stability", action="store_true",
                        help="run everything twice, back to back, and say which headline "
                        "ratio moved by more than 10%% (exit status 1 if one did)")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the scenarios run in --out-dir's results.json, "
                        "keeping the others (and their provenance) as they are")
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
    document, results = run_once(args)
    if args.check_stability:
        print("== second run, for --check-stability", flush=True)
        second, second_results = run_once(args)
        results += [r for r in second_results if r.error]
        document["stability"] = compare_runs(document, second)
        document["second_run"] = {"generated_at": second["generated_at"],
                                  "total_seconds": second["total_seconds"],
                                  "results": second["results"]}
        for row in document["stability"]["figures"]:
            flag = "  MOVED" if row["figure"] in document["stability"]["moved"] else ""
            print(f"   {row['figure']}: {row['first']} -> {row['second']} "
                  f"({row['change']:+.1%}){flag}", flush=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    saved = args.out_dir / "results.json"
    if args.merge and saved.exists():
        document = merged(json.loads(saved.read_text()), document)
        shown = results_from_json(document)
    else:
        shown = results[:len(document["scenarios_run"])]
    saved.write_text(json.dumps(document, indent=2, sort_keys=False))
    (args.out_dir / "results.md").write_text(render_markdown(document, shown))
    print(f"wrote {args.out_dir / 'results.md'} and results.json "
          f"in {document['total_seconds']} s", flush=True)
    if any(r.error for r in results):
        return 1
    return 1 if document.get("stability", {}).get("moved") else 0


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with the scenarios ``new`` ran replaced by ``new``'s, in running order.

    The run-level facts (time, machine, commit, stability) become the new run's:
    the preamble says which scenarios came from which run.
    """
    results = {**old["results"], **new["results"]}
    ordered = {name: results[name] for name in NAMES if name in results}
    stale = {"results", "stability", "second_run"}  # about the old run only
    out = {**{key: value for key, value in old.items() if key not in stale},
           **{key: value for key, value in new.items() if key != "results"},
           "scenarios_run": list(ordered), "results": ordered}
    stability = merge_stability(old.get("stability"), new.get("stability"),
                                list(new["results"]))
    if stability is not None:
        out["stability"] = stability
    return out


def run_once(args: argparse.Namespace) -> tuple[dict[str, Any], list[Result]]:
    """One run of the chosen scenarios against a fresh server: its document and results."""
    started = time.perf_counter()
    results: list[Result] = []
    max_size = args.max_size * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="s3opstore-bench-") as work, \
            Bench(args.quick, Path(work), max_size=max_size) as bench:
        for name, module_name in SCENARIOS.items():
            if name not in args.chosen:
                continue
            module: ModuleType = importlib.import_module(f"benchmarks.{module_name}")
            print(f"== {module.TITLE}", flush=True)
            load_before = os.getloadavg()[0]
            begin = time.perf_counter()
            try:
                result: Result = module.run(bench)
            except Exception:
                result = Result(module.NAME, module.TITLE, error=traceback.format_exc())
                print(result.error, file=sys.stderr, flush=True)
            result.seconds = time.perf_counter() - begin
            result.load = (round(load_before, 1), round(os.getloadavg()[0], 1))
            print(f"   done in {result.seconds:.1f} s, load average {load_before:.1f} to "
                  f"{result.load[1]:.1f}", flush=True)
            results.append(result)
    document: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "scenarios_run": [r.name for r in results],
        "total_seconds": round(time.perf_counter() - started, 1),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_facts(),
        "results": {r.name: r.to_json() for r in results},
    }
    return document, results


if __name__ == "__main__":
    sys.exit(main())
