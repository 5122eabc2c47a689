"""Render the run as markdown: machine facts, then one section per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks._common import Result

_PREAMBLE = Path(__file__).with_name("PREAMBLE.md")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value).replace("|", "\\|")


def table_md(columns: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(document: dict[str, Any], results: list[Result]) -> str:
    machine = document["machine"]
    out = ["# s3opstore benchmarks", ""]
    if _PREAMBLE.exists():
        out += [_PREAMBLE.read_text().strip(), ""]
    out += [
        f"Mode: **{document['mode']}**, generated {document['generated_at']} "
        f"(commit {machine['commit']}), whole run {document['total_seconds']} s. "
        "Regenerate with `python -m benchmarks` (or `--quick`).", "",
        "| machine | |", "|---|---|",
        f"| CPUs (nproc) | {machine['nproc']} ({machine['cpu']}) |",
        f"| memory | {machine['memory']} |",
        f"| platform | {machine['platform']} |",
        f"| python | {machine['python']} |",
    ]
    out += [f"| {name} | {version} |" for name, version in machine["packages"].items()]
    out.append("")
    for result in results:
        out += [f"## {result.title}", ""]
        if result.error:
            out += ["**This scenario failed:**", "", "```", result.error.strip(), "```", ""]
            continue
        for table in result.tables:
            if table.caption:
                out += [table.caption, ""]
            out += [table_md(table.columns, table.rows), ""]
        out += [f"- {note}" for note in result.notes]
        out += [f"- Scenario time: {result.seconds:.1f} s", ""]
    return "\n".join(out).rstrip() + "\n"
