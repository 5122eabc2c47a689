"""Figures from the reliability tests: each test writes a JSON record, this prints them.

Records go to ``$S3OPSTORE_RELIABILITY_OUT`` (default: ``<tmp>/s3opstore-reliability``),
one file per test module and pytest-xdist worker, overwritten on every run; the files
of the most recent run of each are merged (lists joined, counts summed).
``python -m tests.reliability.figures``
prints the last run's figures as the Markdown tables quoted in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any


def out_dir() -> Path:
    chosen = os.environ.get("S3OPSTORE_RELIABILITY_OUT")
    path = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "s3opstore-reliability"
    path.mkdir(parents=True, exist_ok=True)
    return path


_RUN = uuid.uuid4().hex  # one id per process when not under pytest-xdist


def record(name: str, data: dict[str, Any]) -> None:
    """Write this process's figures; under pytest-xdist each worker writes its own file."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", _RUN)
    (out_dir() / f"{name}.{worker}.json").write_text(
        json.dumps({"run": run, "data": data}, indent=1, sort_keys=True))


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif isinstance(value, list) or (isinstance(value, int)
                                             and not isinstance(value, bool)):
                merged[key] = merged[key] + value
    return merged


def load_all() -> dict[str, dict[str, Any]]:
    """The last run's figures per test, the workers of one xdist run merged."""
    files: dict[str, list[Path]] = {}
    for path in out_dir().glob("*.*.json"):
        files.setdefault(path.name.split(".", 1)[0], []).append(path)
    out = {}
    for name, paths in sorted(files.items()):
        loaded = [(p.stat().st_mtime, json.loads(p.read_text())) for p in paths]
        newest_run = max(loaded, key=lambda item: item[0])[1]["run"]
        out[name] = _merge([doc["data"] for _, doc in loaded if doc["run"] == newest_run])
    return out


def _kinds(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(row["kind"] for row in rows))


def _matrix_table(rows: list[dict[str, Any]], group: Any) -> list[str]:
    """One line per group (write path, layer), one column per fault kind (runs)."""
    kinds = _kinds(rows)
    lines = ["| write path | " + " | ".join(kinds) + " | runs | raised a typed error "
             "| retry ok | failures |", "|---" * (len(kinds) + 5) + "|"]
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(group(row), []).append(row)
    for name, items in groups.items():
        per_kind = {k: sum(r["runs"] for r in items if r["kind"] == k) for k in kinds}
        lines.append(f"| {name} | " + " | ".join(str(per_kind[k]) for k in kinds)
                     + f" | {sum(r['runs'] for r in items)} | {sum(r['raised'] for r in items)}"
                     f" | {sum(r['retried_ok'] for r in items)} "
                     f"| {sum(r['failures'] for r in items)} |")
    return lines


def render() -> str:
    figures = load_all()
    out: list[str] = []
    in_process = [row for name in ("matrix-memory", "matrix-local") if name in figures
                  for row in figures[name]["rows"]]
    if in_process:
        out.append(f"In-process fault matrix (FaultInjector on MemoryStore and LocalStore, each "
                   f"path plain and with an idempotency key): {sum(r['runs'] for r in in_process)}"
                   f" runs, {sum(r['failures'] for r in in_process)} failures.\n")
        out.extend(_matrix_table(in_process, lambda r: r["path"].replace(" (keyed)", "")))
        out.append("")
    if "matrix-moto" in figures:
        rows = figures["matrix-moto"]["rows"]
        out.append(f"Below botocore (BotoFaults on moto through S3Store, scale "
                   f"{figures['matrix-moto'].get('scale')}): {sum(r['runs'] for r in rows)} runs, "
                   f"{sum(r['failures'] for r in rows)} failures.\n")
        out.extend(_matrix_table(rows, lambda r: f"{r['path']} ({r['backend'][6:]})"))
        out.append("")
    for name, data in figures.items():
        if not name.startswith("matrix-"):
            out.append(f"- **{name}**: " + ", ".join(f"{k}={v}" for k, v in sorted(data.items())))
    return "\n".join(out)


if __name__ == "__main__":
    print(render())
