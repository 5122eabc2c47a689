"""Render the run as markdown: machine facts, then one section per scenario."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks._common import Result, Table
from benchmarks.transfer import HEADLINE

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


def headline_figures(document: dict[str, Any]) -> dict[str, float]:
    """The headline *ratios* of a run, by name: what ``--check-stability`` compares.

    Only ratios measured within one run are headline figures (absolute speeds
    on a shared machine say more about the neighbours than about the code).
    """
    figures: dict[str, float] = {}
    transfer = _get(document, "transfer", "data") or {}
    for key, entry in transfer.items():
        size, _, case = key.partition("/")
        if size not in ("64 MiB", "1 GiB") or not isinstance(entry, dict):
            continue
        if case in HEADLINE and "ratio_to_raw" in entry:
            figures[f"transfer {size} {case} / raw"] = entry["ratio_to_raw"]
            figures[f"transfer {size} {case} / raw (best of runs)"] = entry["ratio_to_raw_best"]
            figures[f"transfer {size} {case} / raw (CPU)"] = entry["cpu_ratio_to_raw_ci"]["ratio"]
        if "ratio_to_spooled_floor" in entry:
            figures[f"transfer {size} {case} / floor + spool"] = entry["ratio_to_spooled_floor"]
        if f"{case}/floor" in HEADLINE and "ratio_to_floor" in entry:
            figures[f"transfer {size} {case} / floor"] = entry["ratio_to_floor"]
            figures[f"transfer {size} {case} / floor (best of runs)"] = entry[
                "ratio_to_floor_best"]
    latency = _get(document, "latency", "data") or {}
    for name, entry in latency.items():
        if not name.startswith("raw") and "ratio_to_raw_get" in entry:
            figures[f"latency {name} / raw GET"] = entry["ratio_to_raw_get"]
    scale = _get(document, "scale", "data") or {}
    for name, entry in (scale.get("operations") or {}).items():
        if "ratio_top_to_base" in entry:
            figures[f"scale {name} top / base"] = entry["ratio_top_to_base"]
    warm = _get(document, "warm", "data") or {}
    for name, entry in warm.items():
        if not name.startswith("plain") and "ratio_to_plain" in entry:
            figures[f"warm {name} time / plain"] = entry["ratio_to_plain"]
    cold = _get(document, "cold_start", "data", "cases") or {}
    for name, entry in cold.items():
        if name != "python -c pass" and "ratio_to_bare" in entry:
            figures[f"cold start {name} / bare interpreter"] = entry["ratio_to_bare"]
    pairs = _get(document, "contention", "data", "pair_ratios") or {}
    if pairs:
        top = max(pairs, key=int)
        figures[f"contention {top} processes, one op / {top} ops"] = pairs[top]["ratio"]
        return figures
    rounds = _get(document, "contention", "data", "rounds") or []
    if rounds:
        top = max(group["workers"] for group in rounds)
        rate = {group["shared"]: statistics.median(run["per_second"] for run in group["runs"])
                for group in rounds if group["workers"] == top}
        if rate.get(False):
            figures[f"contention {top} processes, one op / {top} ops"] = (
                rate.get(True, 0.0) / rate[False])
    return figures


# figure name prefix -> the scenario that measures it
_SCENARIO_OF = {"transfer": "transfer", "latency": "latency", "scale": "scale",
                "warm": "warm", "cold start": "cold_start", "contention": "contention"}


def scenario_of(figure: str) -> str:
    return next(name for prefix, name in _SCENARIO_OF.items() if figure.startswith(prefix))


def supporting(figure: str) -> bool:
    """Best-of-runs and CPU ratios explain a headline ratio; they are not one. A best
    of 4 rounds is the least stable statistic there is, so it never fails the check."""
    return figure.endswith(("(best of runs)", "(CPU)"))


def _scenario_load(document: dict[str, Any], scenario: str) -> list[float] | None:
    load = (document.get("results", {}).get(scenario) or {}).get("load_average")
    return list(load) if load else None


def compare_runs(first: dict[str, Any], second: dict[str, Any], *,
                 threshold: float = 0.10) -> dict[str, Any]:
    """Each headline figure of two runs, and which moved by more than ``threshold``.

    Every row names its commit and the load average its scenario ran at in each run,
    so rows kept by ``--merge`` from an earlier run still say where they come from.
    """
    a, b = headline_figures(first), headline_figures(second)
    commit = first.get("machine", {}).get("commit")
    rows = []
    for name in a:
        if name not in b:
            continue
        change = b[name] / a[name] - 1 if a[name] else float("inf")
        scenario = scenario_of(name)
        rows.append({"figure": name, "scenario": scenario, "first": round(a[name], 3),
                     "second": round(b[name], 3), "change": round(change, 3),
                     "supporting": supporting(name), "commit": commit,
                     "load": [_scenario_load(first, scenario), _scenario_load(second, scenario)]})
    return {"threshold": threshold, "figures": rows, "moved": moved_figures(rows, threshold),
            "load_average": [load_range(first), load_range(second)]}


def moved_figures(rows: list[dict[str, Any]], threshold: float) -> list[str]:
    """The headline (not supporting) figures whose change exceeds ``threshold``."""
    return [row["figure"] for row in rows
            if not supporting(row["figure"]) and abs(row["change"]) > threshold]


def merge_stability(old: dict[str, Any] | None, new: dict[str, Any] | None,
                    rerun: list[str]) -> dict[str, Any] | None:
    """``new``'s rows for the scenarios re-run, ``old``'s for the others."""
    if new is None:
        return None
    kept = [row for row in (old or {}).get("figures", [])
            if row.get("scenario", scenario_of(row["figure"])) not in rerun]
    rows = [*kept, *new["figures"]]
    return {**new, "figures": rows, "moved": moved_figures(rows, new["threshold"])}


def load_range(document: dict[str, Any]) -> list[float] | None:
    """The lowest and highest 1-minute load average seen at any scenario's start or end."""
    seen = [value for result in document.get("results", {}).values()
            for value in (result.get("load_average") or [])]
    return [min(seen), max(seen)] if seen else None


def headline(document: dict[str, Any]) -> list[str]:
    """The few figures a README quotes, pulled from whatever scenarios ran."""
    lines = []
    transfer = _get(document, "transfer", "data") or {}
    for size in ("64 MiB", "1 GiB"):
        parts = []
        for case in ("save_path", "save_stream", "save_unseekable", "load_path",
                     "load_stream"):
            entry = transfer.get(f"{size}/{case}")
            if not entry:
                continue
            # Runs saved before intervals were measured have only the median ratio.
            text = f"{case} {_ci(entry.get('ratio_to_raw_ci', {'ratio': entry['ratio_to_raw']}))}"
            if "ratio_to_spooled_floor_ci" in entry:
                text += (f" ({_ci(entry['ratio_to_floor_ci'])} of the floor, "
                         f"{_ci(entry['ratio_to_spooled_floor_ci'])} of the floor plus a spool)")
            elif "ratio_to_floor_ci" in entry:
                text += f" ({_ci(entry['ratio_to_floor_ci'])} of the floor)"
            parts.append(text)
        if parts:
            measured = any("ratio_to_raw_ci" in (transfer.get(f"{size}/{case}") or {})
                           for case in ("save_path", "load_path"))
            lines.append(f"Blob throughput vs raw boto3 at {size}"
                         + (" (95% CI)" if measured else " (median of one run's repeats)")
                         + ": " + ", ".join(parts) + ".")
        checksum = transfer.get(f"{size}/raw_upload_sha256")
        if checksum:
            lines.append(f"upload_file with SHA-256 part checksums vs without, {size}: "
                         f"{_ci(checksum['ratio_to_raw_ci'])}.")
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
        lost = sum(run["lost"] + len(run["problems"]) for run in runs)
        gave_up = sum(len(run["errors"]) for run in runs)
        most = max(rounds, key=lambda g: (g["workers"], g["shared"]))
        rate = statistics.median(run["per_second"] for run in most["runs"])
        retries = statistics.median(run["retries_per_commit"] for run in most["runs"])
        pair = (_get(document, "contention", "data", "pair_ratios") or {}).get(
            str(most["workers"]))
        versus = f" ({_ci(pair)} of {most['workers']} ops)" if pair else ""
        lines.append(f"Contention: {most['workers']} processes on one op commit {rate:.0f} "
                     f"versions/s{versus} with {retries:.2f} lost races per commit; "
                     f"{'nothing lost in any run' if not lost else f'{lost} PROBLEMS'}"
                     + (f"; {gave_up} registration(s) raised (see the scenario's notes)"
                        if gave_up else "") + ".")
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


def _ci(interval: dict[str, Any]) -> str:
    if interval.get("low") is None:
        return f"{interval['ratio']:.2f}"
    return f"{interval['ratio']:.2f} [{interval['low']:.2f}, {interval['high']:.2f}]"


def _measured(row: dict[str, Any]) -> str:
    """Where a row comes from: its commit and its scenario's load average in each run."""
    loads = [f"{lo:.1f}-{hi:.1f}" for lo, hi in (pair for pair in row.get("load") or []
                                                 if pair)]
    where = row.get("commit") or "?"
    return f"{where}, load {' / '.join(loads)}" if loads else where


def stability_md(stability: dict[str, Any]) -> list[str]:
    moved = stability["moved"]
    threshold = stability["threshold"]
    out = ["## Stability: two back-to-back runs", "",
           f"Every headline ratio of the first run against the second; a change beyond "
           f"{threshold:.0%} is marked. "
           + ("No headline ratio moved." if not moved else f"{len(moved)} headline "
              "ratio(s) moved.")
           + " Supporting rows (best of runs, CPU) explain a headline ratio and are shown "
           "for reference: a best of a few rounds is the least stable statistic, so they "
           "are marked but never fail the check. Each row names the commit and the load "
           "average (1 min, at its scenario's start and end, first run / second run) it "
           "was measured at."]
    out.append("")
    rows = []
    for f in stability["figures"]:
        over = abs(f["change"]) > threshold
        flag = "MOVED" if f["figure"] in moved else ("moved (supporting)" if over else "")
        rows.append([f["figure"], f"{f['first']:.3f}", f"{f['second']:.3f}",
                     f"{f['change']:+.1%}", flag, _measured(f)])
    return [*out, table_md(["figure", "first run", "second run", "change", "", "measured"],
                           rows), ""]


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
    if machine.get("server"):  # runs before it was recorded lack it
        out.append(f"| server | {machine['server']} |")
    out.append("")
    summary = headline(document)
    if summary:
        out += ["## Headline figures", ""] + [f"- {line}" for line in summary] + [""]
    if document.get("stability"):
        out += stability_md(document["stability"])
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
        load = (f"; load average (1 min) {result.load[0]:.1f} at its start, "
                f"{result.load[1]:.1f} at its end" if result.load else "")
        out += [f"- Scenario time: {round(result.seconds, 2):.1f} s{load}", ""]
    return "\n".join(out).rstrip() + "\n"


def results_from_json(document: dict[str, Any]) -> list[Result]:
    """Rebuild the Result objects of a saved run (to re-render its markdown)."""
    out = []
    for raw in document["results"].values():
        out.append(Result(
            raw["name"], raw["title"],
            tables=[Table(t["columns"], t["rows"], t["caption"]) for t in raw["tables"]],
            notes=raw["notes"], data=raw["data"], seconds=raw["seconds"], error=raw["error"],
            load=tuple(raw["load_average"]) if raw.get("load_average") else None))
    return out
