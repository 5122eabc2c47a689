"""Scenario 2: blob transfer against raw boto3, same server, same run, pair by pair.

Each case runs in a fresh interpreter (``_transfer_child``) so its peak RSS is
its own. A *round* runs every case of ours once, each between two runs of its
reference (``raw_upload`` or ``raw_download``: R S1 R S2 R ...), forwards in
even rounds and backwards in odd ones. A case's reference time is the
geometric mean of the two runs around it, so a drift in the machine's speed
within the round (at 1 GiB a round takes minutes) hits both sides of a
comparison alike. Each round gives one ratio per comparison (reference time
over ours); rounds repeat until every headline ratio's 95% confidence interval
is within ``TARGET_SPREAD`` of it, or the size's time cap or round cap is hit.
The interval, not only a central figure, is reported.

Compared: ``save_op_bytes`` (path, open file, a stream that cannot seek, and bytes
at 1 MiB) against ``client.upload_file``; ``load_op_bytes_to`` (path, open file) and
``load_op_bytes`` (bytes, 1 MiB) against ``client.download_file``. s3opstore's
saves go to a fresh op each round, so the content-addressed blob is really
uploaded every time. The stream that cannot seek (``save_unseekable``: an
open file behind a wrapper whose ``seekable()`` is False, as an HTTP body or a
pipe would be) is spooled while it is hashed (in memory up to 16 MiB, then to a
temporary file), then uploaded from the spool;
an open file is hashed, rewound and uploaded, as a path is.

A stream that cannot seek must also be spooled: ``spool`` copies the file as
s3opstore spools it (no hash), and ``save_unseekable``'s ratio to
``t_hash + t_spool + t_raw_upload`` says what it costs beyond that.

The floor of a content-addressed save is one hash pass plus one upload: in
each round, ``hash`` (one SHA-256 pass over the file) and the save's reference
time give ``t_floor = t_hash + t_raw_upload``, and a save's ratio to the floor is
``t_floor / t_save``. ``raw_upload_sha256`` is ``upload_file`` asking S3 for
SHA-256 part checksums: its ratio to ``raw_upload`` is what those checksums
would cost. s3opstore asks for CRC32 on parts, as boto3 does by default
(SHA-256 only on a single PUT, where it proves the address; design.md, D11).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    Bench,
    GiB,
    MiB,
    Result,
    Table,
    fmt,
    ratio_interval,
    stats,
)
from s3opstore import Version

NAME = "transfer"
TITLE = "2. Blob transfer vs raw boto3"

TARGET_SPREAD = 0.05  # stop once every headline ratio is known within +-5% (95% CI)
_SAVES = ("save_path", "save_stream", "save_unseekable", "save_bytes")
_LOADS = ("load_path", "load_stream", "load_bytes")
# Ratios that decide when a size has been measured enough (and that --check-stability compares).
HEADLINE = ("save_path", "save_stream", "save_unseekable", "load_path", "load_stream",
            "save_path/floor", "save_stream/floor", "save_unseekable/floor")


def plan(quick: bool) -> list[tuple[int, int, int, float]]:
    """(size, min rounds, max rounds, time cap in seconds) per size."""
    if quick:
        return [(1 * MiB, 2, 2, 0.0)]
    return [(1 * MiB, 4, 12, 45.0), (64 * MiB, 4, 20, 180.0), (1 * GiB, 4, 6, 420.0)]


def _make_file(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = min(left, 8 * MiB)
            fh.write(os.urandom(chunk))
            left -= chunk


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "benchmarks._transfer_child", json.dumps(spec)],
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent,
                         timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"transfer case {spec['case']} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def label(size: int) -> str:
    return f"{size // GiB} GiB" if size >= GiB else f"{size // MiB} MiB"


def _cases(size: int) -> tuple[list[str], list[str]]:
    uploads = ["raw_upload", "hash", "spool", "save_path", "save_stream", "save_unseekable"]
    if size < GiB:  # a 1 GiB upload takes ~25 s here: the checksums' cost is measured below
        uploads.insert(2, "raw_upload_sha256")
    downloads = ["raw_download", "load_path", "load_stream"]
    if size <= MiB:
        uploads.append("save_bytes")
        downloads.append("load_bytes")
    return uploads, downloads


def _sequence(size: int, forwards: bool) -> list[str]:
    """One round's cases in order: each of ours between two runs of its reference."""
    uploads, downloads = _cases(size)
    sequence = []
    for cases in (uploads, downloads):
        reference, part = cases[0], [cases[0]]
        for case in cases[1:]:
            if case not in _LOCAL:
                part += [case, reference]
        part += [case for case in cases if case in _LOCAL]  # local passes: no server
        sequence += part if forwards else part[::-1]
    return sequence


def _bracket(samples: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """A round's samples (in run order) by case; each case of ours gets ``reference_seconds``
    and ``reference_cpu``, the geometric means of the reference runs just before and
    after it, and each reference case keeps its later runs under ``repeats``."""
    run: dict[str, dict[str, Any]] = {}
    for index, (case, sample) in enumerate(samples):
        if case in _REFERENCES:
            if case in run:
                run[case].setdefault("repeats", []).append(sample)
            else:
                run[case] = sample
            continue
        run[case] = sample
        if case in _LOCAL:
            continue
        around = [s for c, s in samples[max(index - 1, 0):index + 2:2] if c == _reference(case)]
        sample["reference_seconds"] = statistics.geometric_mean(
            [s["seconds"] for s in around])
        sample["reference_cpu"] = statistics.geometric_mean(
            [s["cpu_seconds"] + s["server_cpu_seconds"] for s in around])
    return run


def _reference_seconds(run: dict[str, dict[str, Any]], case: str) -> float:
    return float(run[case]["reference_seconds"])


def _round_ratios(run: dict[str, dict[str, Any]]) -> dict[str, float]:
    """One round's ratios: reference time over our time (> 1: ours is faster)."""
    t = {case: sample["seconds"] for case, sample in run.items()}
    out = {}
    if "raw_upload_sha256" in t:
        out["raw_upload_sha256"] = _reference_seconds(run, "raw_upload_sha256") / t[
            "raw_upload_sha256"]
    for case in _SAVES:
        if case in t:
            reference = _reference_seconds(run, case)
            out[case] = reference / t[case]
            out[f"{case}/floor"] = (t["hash"] + reference) / t[case]
            if case == "save_unseekable" and "spool" in t:
                out[f"{case}/spooled floor"] = (t["hash"] + t["spool"] + reference) / t[case]
    for case in _LOADS:
        if case in t:
            out[case] = _reference_seconds(run, case) / t[case]
    return out


_REFERENCES = ("raw_upload", "raw_download")
# Local passes over the file, compared with nothing: the floor's hash, and a spool's write.
_LOCAL = ("hash", "spool")


def _reference(case: str) -> str:
    return "raw_download" if case in _LOADS else "raw_upload"


def _all_runs(run: dict[str, dict[str, Any]], case: str) -> list[dict[str, Any]]:
    """A case's runs in one round: one for ours, all of them for a reference."""
    return [run[case], *run[case].get("repeats", [])]


def _best_ratio(rounds: list[dict[str, dict[str, Any]]], case: str) -> float:
    """Best reference time over our best time: each side's least disturbed run."""
    if case.endswith("/floor"):
        ours: float = min(r[case.removesuffix("/floor")]["seconds"] for r in rounds)
        floor: float = min(r["hash"]["seconds"] + s["seconds"] for r in rounds
                           for s in _all_runs(r, "raw_upload"))
        return floor / ours
    ref: float = min(s["seconds"] for r in rounds for s in _all_runs(r, _reference(case)))
    best: float = min(r[case]["seconds"] for r in rounds)
    return ref / best


def _cpu_ratios(rounds: list[dict[str, dict[str, Any]]], case: str) -> list[float]:
    """Per round: CPU (client + server) of the reference over ours; load-independent-ish."""
    def cpu(sample: dict[str, Any]) -> float:
        return float(sample["cpu_seconds"] + sample["server_cpu_seconds"])
    return [float(r[case]["reference_cpu"]) / cpu(r[case]) for r in rounds]


def _measure_size(bench: Bench, store: Any, prefix: str, size: int, min_rounds: int,
                  max_rounds: int, cap: float) -> tuple[list[dict[str, dict[str, Any]]], str]:
    source = bench.workdir / f"data-{size}"
    _make_file(source, size)
    env, rounds = bench.env(), []
    began, why = time.perf_counter(), "round cap"
    try:
        for index in range(max_rounds):
            op = f"blob-{size}-{index}"
            run: dict[str, dict[str, Any]] = {}
            samples: list[tuple[str, dict[str, Any]]] = []
            for case in _sequence(size, forwards=index % 2 == 0):
                spec: dict[str, Any] = {
                    "env": env, "bucket": bench.bucket, "prefix": prefix, "case": case,
                    "size": size, "path": str(source), "key": f"raw/{op}",
                    "op": f"{op}-save_path", "version": ""}
                if case in _SAVES:
                    spec["op"] = f"{op}-{case}"
                    record = store.register_version(spec["op"], Version.from_parts(
                        major=spec["op"]))
                    spec["version"] = str(record.version)
                elif case in _LOADS:
                    spec["version"] = run["save_path"]["version"]
                if case in ("raw_download", *_LOADS):
                    spec["path"] = str(bench.workdir / f"out-{size}")
                # Start every case with nothing dirty in the page cache: a round writes
                # GiBs (the server's volumes, the downloads), and the kernel's writeback of
                # one case's bytes otherwise lands in whichever case runs next.
                os.sync()
                server_cpu = bench.server_cpu()
                sample = _child(spec)
                sample["server_cpu_seconds"] = bench.server_cpu() - server_cpu
                sample["version"] = spec["version"]
                samples.append((case, sample))
                run.setdefault(case, sample)
                if case in ("raw_download", *_LOADS) and case != "load_bytes":
                    out = Path(spec["path"])
                    if out.stat().st_size != size:
                        raise RuntimeError(f"{case} wrote {out.stat().st_size} bytes, not {size}")
                    out.unlink()
            rounds.append(_bracket(samples))
            _clear(bench, prefix)
            if len(rounds) < min_rounds:
                continue
            ratios = [_round_ratios(r) for r in rounds]
            spreads = [ratio_interval([r[name] for r in ratios]).spread
                       for name in HEADLINE if name in ratios[0]]
            if all(spread <= TARGET_SPREAD for spread in spreads):
                why = f"every headline interval within +-{TARGET_SPREAD:.0%}"
                break
            if time.perf_counter() - began >= cap:
                why = f"time cap ({cap:.0f} s)"
                break
    finally:
        source.unlink()
    return rounds, why


def _clear(bench: Bench, prefix: str) -> None:
    """Delete a round's blobs and raw objects, and have the server reclaim their space.

    Every round then starts against the same nearly empty server: downloads slowed
    from about 340 to 150 MiB/s as the server accumulated GiBs, and a full run writes
    about 45 GiB at 1 GiB, more than the machine's disk has free.
    """
    client = bench.client()
    items = [item for where in ("raw/", f"{prefix}/ops/")
             for page in client.get_paginator("list_objects_v2").paginate(
                 Bucket=bench.bucket, Prefix=where)
             for item in page.get("Contents", [])
             if where == "raw/" or "/blobs/" in item["Key"]]
    garbage = bench.server.garbage()
    for start in range(0, len(items), 1000):
        client.delete_objects(Bucket=bench.bucket, Delete={
            "Objects": [{"Key": item["Key"]} for item in items[start:start + 1000]],
            "Quiet": True})
    bench.server.vacuum(at_least=garbage + sum(item["Size"] for item in items))


def _median(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else math.nan


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    prefix = bench.prefix("transfer")
    store, _counter, _client = bench.opstore(prefix)
    rows: list[list[Any]] = []
    phase_rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    stopped: list[str] = []
    for size, min_rounds, max_rounds, cap in plan(bench.quick):
        if bench.max_size and size > bench.max_size:
            stopped.append(f"{label(size)}: skipped (--max-size)")
            continue
        rounds, why = _measure_size(bench, store, prefix, size, min_rounds, max_rounds, cap)
        stopped.append(f"{label(size)}: {len(rounds)} rounds, stopped by {why}")
        ratios = [_round_ratios(r) for r in rounds]
        for case in rounds[0]:
            runs = [s for r in rounds for s in _all_runs(r, case)]
            mibs = stats([size / s["seconds"] / MiB for s in runs])
            rss = stats([(s["rss_peak_kib"] - s["rss_base_kib"]) / 1024 for s in runs])
            rss_abs = stats([s["rss_peak_kib"] / 1024 for s in runs])
            to_raw = ratio_interval([r[case] for r in ratios]) if case in ratios[0] else None
            to_floor = (ratio_interval([r[f"{case}/floor"] for r in ratios])
                        if f"{case}/floor" in ratios[0] else None)
            store_s = {name: _median([s["store_seconds"].get(name, 0.0) for s in runs])
                       for name in sorted({n for s in runs for n in s["store_seconds"]})}
            phases: dict[str, Any] = {"wall_s": _median([s["seconds"] for s in runs]),
                      "client_cpu_s": _median([s["cpu_seconds"] for s in runs]),
                      "server_cpu_s": _median([s["server_cpu_seconds"] for s in runs]),
                      "store_calls_s": store_s,
                      "local_s": _median([s["seconds"] - sum(s["store_seconds"].values())
                                          for s in runs])}
            rows.append([
                label(size), case, fmt(mibs.median, 1), f"{fmt(mibs.min, 1)} to {fmt(mibs.max, 1)}",
                _interval_cell(to_raw) if to_raw else "1 (reference)",
                fmt(_best_ratio(rounds, case)) if to_raw else "",
                _interval_cell(to_floor) if to_floor else "",
                _interval_cell(ratio_interval(_cpu_ratios(rounds, case))) if to_raw else "",
                fmt(rss.median, 1),
                fmt(rss_abs.max, 1), len(rounds)])
            if not case.startswith("raw") and case not in _LOCAL:
                phase_rows.append([
                    label(size), case, fmt(phases["wall_s"], 3), fmt(phases["local_s"], 3),
                    ", ".join(f"{n} {v:.3f}" for n, v in store_s.items() if v >= 0.0005),
                    fmt(phases["client_cpu_s"], 3), fmt(phases["server_cpu_s"], 3)])
            elif case not in _LOCAL:
                phase_rows.append([label(size), case, fmt(phases["wall_s"], 3), "", "",
                                   fmt(phases["client_cpu_s"], 3),
                                   fmt(phases["server_cpu_s"], 3)])
            entry: dict[str, Any] = {
                "size": size, "rounds": len(rounds), "throughput_mib_s": mibs.json(digits=1),
                "rss_delta_mib": rss.json(digits=1), "rss_peak_mib": rss_abs.json(digits=1),
                "phases": _rounded(phases)}
            if to_raw is not None:
                entry["ratio_to_raw"] = round(to_raw.ratio, 3)
                entry["ratio_to_raw_ci"] = to_raw.json()
                entry["ratio_to_raw_best"] = round(_best_ratio(rounds, case), 3)
                entry["cpu_ratio_to_raw_ci"] = ratio_interval(_cpu_ratios(rounds, case)).json()
            spooled = f"{case}/spooled floor"
            if spooled in ratios[0]:
                to_spooled = ratio_interval([r[spooled] for r in ratios])
                entry["ratio_to_spooled_floor"] = round(to_spooled.ratio, 3)
                entry["ratio_to_spooled_floor_ci"] = to_spooled.json()
                result.notes.append(
                    f"{label(size)} {case} against the floor plus a spool of its own (one "
                    "SHA-256 pass, the file copied to a SpooledTemporaryFile as s3opstore "
                    f"spools, and `upload_file`): {_interval_cell(to_spooled)}.")
            if to_floor is not None:
                entry["ratio_to_floor"] = round(to_floor.ratio, 3)
                entry["ratio_to_floor_ci"] = to_floor.json()
                entry["ratio_to_floor_best"] = round(_best_ratio(rounds, f"{case}/floor"), 3)
            data[f"{label(size)}/{case}"] = entry
    result.tables.append(Table(
        ["size", "case", "MiB/s median", "range", "ratio to raw [95% CI]", "best / best",
         "ratio to floor [95% CI]", "CPU ratio [95% CI]", "peak RSS delta MiB (median)",
         "peak RSS total MiB (max)", "rounds"], rows,
        caption="Throughput over loopback SeaweedFS (the server shares the 2 CPUs). Ratios "
        "are geometric means of per-round ratios (reference time / our time; > 1 is "
        "faster than the reference) with their 95% interval. Saves and `raw_upload_sha256` "
        "compare with `upload_file`, loads with `download_file`, each run between two runs "
        "of its reference, whose times' geometric mean is its reference time in that round; "
        "the floor is one SHA-256 pass (`hash`) plus that reference time. MiB/s and RSS of "
        "a reference cover all its runs. Best / best: the "
        "reference's fastest run over ours (each side's least disturbed run). CPU ratio: "
        "client + server CPU seconds of the reference over ours, per round."))
    result.tables.append(Table(
        ["size", "case", "wall s", "local s (not in a store call)", "store calls s",
         "client CPU s", "server CPU s"], phase_rows,
        caption="Where the time goes (medians over rounds). Local time is hashing, spooling "
        "and verifying; store calls are the S3Store methods (HEAD, LIST+GET of the binding, "
        "PUT of the binding, s3transfer's upload/download). CPU: the client process (all "
        "threads) and the SeaweedFS process during the case."))
    result.notes.append("Rounds per size: " + "; ".join(stopped) + ".")
    result.notes.append(
        "The same boto3 client configuration (`s3opstore.stores.s3.default_client`) is used "
        "for raw boto3 and for s3opstore: over plain http botocore signs every request body "
        "with SHA-256, on both sides. Raw uses boto3's default TransferConfig (8 MiB parts, "
        "10 threads, CRC32 checksums); s3opstore its own (16 MiB parts, 8 threads, CRC32 "
        "part checksums, at most 4 parts in memory).")
    if bench.quick:
        result.notes.append("Quick mode: 1 MiB only, two rounds.")
    result.data = data
    return result


def _interval_cell(interval: Any) -> str:
    if interval.n < 2:
        return fmt(interval.ratio)
    return f"{fmt(interval.ratio)} [{fmt(interval.low)}, {fmt(interval.high)}]"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
