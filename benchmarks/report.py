"""Render the run as markdown: machine facts, then one section per scenario."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks._common import Result, Table

_PREAMBLE = Path(__file__).with_name("PREAMBLE.md")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value).replace("|", "\\|")


def table_md(columns: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _get(document: dict[str, Any], *path: str) -> Any:
    node: Any = document.get("results", {})
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def headline(document: dict[str, Any]) -> list[str]:
    """The few figures a README quotes, pulled from whatever scenarios ran."""
    lines = []
    transfer = _get(document, "transfer", "data") or {}
    for size in ("64 MiB", "1 GiB"):
        parts = [f"{case.split('/')[1]} {figures['ratio_to_raw']:.2f}"
                 for case, figures in transfer.items()
                 if case.startswith(size + "/") and not case.split("/")[1].startswith("raw")]
        if parts:
            lines.append(f"Blob throughput vs raw boto3 at {size}: " + ", ".join(parts) + ".")
    rss = [f"{case.split('/')[1]} {figures['rss_delta_mib']['max']:.0f} MiB"
           for case, figures in transfer.items() if case.startswith("1 GiB/")]
    if rss:
        lines.append("Peak RSS added by a 1 GiB transfer: " + ", ".join(rss) + ".")
    latency = _get(document, "latency", "data") or {}
    if latency:
        lines.append("Latency in raw-GET round trips (median): " + ", ".join(
            f"{name} {figures['ratio_to_raw_get']:.1f}" for name, figures in latency.items()
            if not name.startswith("raw")) + ".")
    scale = _get(document, "scale", "data") or {}
    if scale:
        top, base = scale["levels"][-1], scale["levels"][0]
        lines.append(f"Cost at {top:,} versions over cost at {base}: " + ", ".join(
            f"{name} {figures['ratio_top_to_base']:.2f}"
            for name, figures in scale["operations"].items()) + ".")
    rounds = _get(document, "contention", "data", "rounds") or []
    if rounds:
        runs = [run for group in rounds for run in group["runs"]]
        lost = sum(run["lost"] + len(run["problems"]) + len(run["errors"]) for run in runs)
        most = max(rounds, key=lambda g: (g["workers"], g["shared"]))
        rate = statistics.median(run["per_second"] for run in most["runs"])
        retries = statistics.median(run["retries_per_commit"] for run in most["runs"])
        lines.append(f"Contention: {most['workers']} processes on one op commit {rate:.0f} "
                     f"versions/s with {retries:.2f} retries per commit; "
                     f"{'nothing lost in any run' if not lost else f'{lost} PROBLEMS'}.")
    warm = _get(document, "warm", "data") or {}
    if warm:
        lines.append("Warm invocations (requests, median): " + ", ".join(
            f"{name} {figures['warm_requests']['median']:.0f}" for name, figures in warm.items())
            + ".")
    cold = _get(document, "cold_start", "data", "cases") or {}
    if cold:
        lines.append("Cold start (fresh interpreter, wall ms median): " + ", ".join(
            f"{name} {figures['wall_ms']['median']:.0f}" for name, figures in cold.items()) + ".")
    return lines


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
    summary = headline(document)
    if summary:
        out += ["## Headline figures", ""] + [f"- {line}" for line in summary] + [""]
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
        # Rounded as results.json stores it first, so --rerender prints the same figure.
        out += [f"- Scenario time: {round(result.seconds, 2):.1f} s", ""]
    return "\n".join(out).rstrip() + "\n"


def results_from_json(document: dict[str, Any]) -> list[Result]:
    """Rebuild the Result objects of a saved run (to re-render its markdown)."""
    out = []
    for raw in document["results"].values():
        out.append(Result(
            raw["name"], raw["title"],
            tables=[Table(t["columns"], t["rows"], t["caption"]) for t in raw["tables"]],
            notes=raw["notes"], data=raw["data"], seconds=raw["seconds"], error=raw["error"]))
    return out
