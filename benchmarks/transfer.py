"""Scenario 2: blob transfer against raw boto3, same server, same run.

Each case runs in a fresh interpreter (``_transfer_child``) so its peak RSS is
its own. Per repeat the cases are interleaved (raw, ours, raw, ours...) so
drifting machine load hits both sides alike. s3opstore's saves go to a fresh
op each repeat, so the content-addressed blob is really uploaded every time.

What is compared: ``save_op_bytes`` (path, open file, and bytes for 1 MiB)
against ``client.upload_file``; ``load_op_bytes_to`` (path, open file) and
``load_op_bytes`` (bytes, 1 MiB) against ``client.download_file``. s3opstore
hashes the source before uploading (one extra local read) and verifies the
digest while downloading; both are part of its cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import Bench, GiB, MiB, Result, Table, fmt, ratio, stats
from s3opstore import Version

NAME = "transfer"
TITLE = "2. Blob transfer vs raw boto3"

_UPLOADS = ("save_path", "save_stream", "save_bytes", "save_path_lowmem")
_DOWNLOADS = ("load_path", "load_stream", "load_bytes")


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


def _label(size: int) -> str:
    return f"{size // GiB} GiB" if size >= GiB else f"{size // MiB} MiB"


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    plan = [(1 * MiB, 2)] if bench.quick else [(1 * MiB, 5), (64 * MiB, 3), (1 * GiB, 2)]
    prefix = bench.prefix("transfer")
    store, _counter, _client = bench.opstore(prefix)
    env = bench.env()
    samples: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for size, repeats in plan:
        source = bench.workdir / f"data-{size}"
        _make_file(source, size)
        for rep in range(repeats):
            op = f"blob-{size}-{rep}"
            cases = ["raw_upload", "save_path", "save_stream"]
            if size <= MiB:
                cases.append("save_bytes")
            else:
                cases.append("save_path_lowmem")
            cases += ["raw_download", "load_path", "load_stream"]
            if size <= MiB:
                cases.append("load_bytes")
            saved: dict[str, str] = {}
            for case in cases:
                spec: dict[str, Any] = {
                    "env": env, "bucket": bench.bucket, "prefix": prefix, "case": case,
                    "size": size, "path": str(source), "key": f"raw/{op}",
                    "op": f"{op}-save_path", "version": saved.get("save_path", "")}
                if case in _UPLOADS:
                    record = store.register_version(f"{op}-{case}",
                                                    Version.from_parts(major=f"{op}-{case}"))
                    saved[case] = str(record.version)
                    spec["op"], spec["version"] = f"{op}-{case}", saved[case]
                if case in ("raw_download", *_DOWNLOADS):
                    spec["path"] = str(bench.workdir / f"out-{size}")
                samples.setdefault((size, case), []).append(_child(spec))
                if case in ("raw_download", *_DOWNLOADS) and case != "load_bytes":
                    out = Path(spec["path"])
                    if out.stat().st_size != size:
                        raise RuntimeError(f"{case} wrote {out.stat().st_size} bytes, not {size}")
                    out.unlink()
        source.unlink()

    rows: list[list[Any]] = []
    data: dict[str, Any] = {}
    for size, _repeats in plan:
        raw_up = stats([size / s["seconds"] / MiB for s in samples[(size, "raw_upload")]])
        raw_down = stats([size / s["seconds"] / MiB for s in samples[(size, "raw_download")]])
        for case in ("raw_upload", *_UPLOADS, "raw_download", *_DOWNLOADS):
            if (size, case) not in samples:
                continue
            runs = samples[(size, case)]
            mibs = stats([size / s["seconds"] / MiB for s in runs])
            rss = stats([(s["rss_peak_kib"] - s["rss_base_kib"]) / 1024 for s in runs])
            rss_abs = stats([s["rss_peak_kib"] / 1024 for s in runs])
            raw = raw_up if case in ("raw_upload", *_UPLOADS) else raw_down
            rel = ratio(mibs.median, raw.median)
            rows.append([_label(size), case, fmt(mibs.median, 1), fmt(mibs.min, 1),
                         fmt(mibs.max, 1), "1 (raw)" if case.startswith("raw") else fmt(rel),
                         fmt(rss.median, 1), fmt(rss.max, 1), fmt(rss_abs.max, 1), mibs.n])
            data[f"{_label(size)}/{case}"] = {
                "size": size, "throughput_mib_s": mibs.json(digits=1),
                "ratio_to_raw": round(rel, 3), "rss_delta_mib": rss.json(digits=1),
                "rss_peak_mib": rss_abs.json(digits=1)}
    result.tables.append(Table(
        ["size", "case", "MiB/s median", "min", "max", "ratio to raw (median)",
         "peak RSS delta MiB (median)", "(max)", "peak RSS total MiB (max)", "runs"],
        rows, caption="Throughput over loopback SeaweedFS (the server shares the 2 CPUs). "
        "Uploads compare with `upload_file`, downloads with `download_file`. RSS delta = "
        "peak minus the child's peak after imports and set-up."))
    result.notes.append(
        "Each case runs in its own fresh interpreter; the same boto3 client configuration "
        "(`s3opstore.stores.s3.default_client`) is used for raw boto3 and for s3opstore. "
        "boto3's default TransferConfig (8 MiB parts, 10 threads) for raw; s3opstore's "
        "(16 MiB parts, 8 threads, CRC32 part checksums, at most 4 parts in memory) for ours.")
    result.notes.append(
        "`save_path_lowmem` sets `transfer_config.max_in_memory_upload_chunks = 4` "
        "explicitly; `stores/s3.py` now does so by default (s3transfer's default of 10 "
        "buffered 16 MiB parts lifted a 1 GiB save's RSS to ~200 MiB), so it should match "
        "`save_path`. `load_path` downloads into the seekable temporary file and hashes it "
        "afterwards; `load_stream` goes through a non-seekable digest-verifying writer, "
        "for which s3transfer buffers parts that arrive out of order.")
    if bench.quick:
        result.notes.append("Quick mode: 1 MiB only.")
    result.data = data
    return result
