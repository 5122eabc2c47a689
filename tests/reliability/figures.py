"""Figures from the reliability tests: each test writes a JSON record, this prints them.

Records go to ``$S3OPSTORE_RELIABILITY_OUT`` (default: ``<tmp>/s3opstore-reliability``),
one file per test, overwritten on every run. ``python -m tests.reliability.figures``
prints the last run's figures as the Markdown tables quoted in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def out_dir() -> Path:
    chosen = os.environ.get("S3OPSTORE_RELIABILITY_OUT")
    path = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "s3opstore-reliability"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(name: str, data: dict[str, Any]) -> None:
    (out_dir() / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True))


def load_all() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(out_dir().glob("*.json"))}


def _matrix_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| layer / backend | write path | fault kind | positions | runs | raised typed | "
             "retry ok | failures |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['backend']} | {row['path']} | {row['kind']} | {row['positions']} "
                     f"| {row['runs']} | {row['raised']} | {row['retried_ok']} "
                     f"| {row['failures']} |")
    return lines


def render() -> str:
    figures = load_all()
    out: list[str] = []
    matrix = [row for name, data in figures.items() if name.startswith("matrix-")
              for row in data["rows"]]
    if matrix:
        total_runs = sum(r["runs"] for r in matrix)
        total_fail = sum(r["failures"] for r in matrix)
        out.append(f"Fault matrix: {total_runs} injected-fault runs, {total_fail} failures.\n")
        out.extend(_matrix_table(sorted(matrix, key=lambda r: (r["backend"], r["path"],
                                                                r["kind"]))))
        out.append("")
    for name, data in figures.items():
        if not name.startswith("matrix-"):
            out.append(f"- **{name}**: " + ", ".join(f"{k}={v}" for k, v in sorted(data.items())
                                                    if not isinstance(v, list | dict)))
    return "\n".join(out)


if __name__ == "__main__":
    print(render())
