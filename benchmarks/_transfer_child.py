"""One blob-transfer case in a fresh interpreter: time it and measure peak RSS.

``python -m benchmarks._transfer_child '<json spec>'`` prints one JSON line:
``{"seconds": ..., "rss_base_kib": ..., "rss_peak_kib": ..., "bytes": ...}``.
The baseline is taken after imports, client creation and one warm-up request
(and, for s3opstore, the one-time store probe), so the delta is what the
transfer itself added. ``ru_maxrss`` is the process's peak, in KiB on Linux.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

LOWMEM_UPLOAD_CHUNKS = 4


def _rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    os.environ.update(spec["env"])
    import boto3  # noqa: F401 - imported before the baseline on purpose

    from s3opstore import OpStore
    from s3opstore.stores.s3 import S3Store, default_client

    client = default_client()
    client.head_bucket(Bucket=spec["bucket"])  # open a connection before timing
    case, path = spec["case"], Path(spec["path"])
    s3 = S3Store(spec["bucket"], spec["prefix"], client=client)
    if case.endswith("_lowmem"):
        # The proposed one-line core change: bound s3transfer's in-memory upload parts
        # (default 10 x 16 MiB for file objects; upload_file of a *path* reads lazily).
        s3.transfer_config.max_in_memory_upload_chunks = LOWMEM_UPLOAD_CHUNKS
        case = case.removesuffix("_lowmem")
    store = OpStore(s3)
    if not case.startswith("raw_"):
        store.check_store()
    op, version = spec.get("op", ""), spec.get("version", "")
    data = path.read_bytes() if case == "save_bytes" else b""
    base = _rss_kib()
    start = time.perf_counter()
    moved = spec["size"]
    if case == "raw_upload":
        client.upload_file(str(path), spec["bucket"], spec["key"])
    elif case == "raw_download":
        client.download_file(spec["bucket"], spec["key"], str(path))
    elif case == "save_path":
        store.save_op_bytes(op, version, path)
    elif case == "save_stream":
        with open(path, "rb") as fh:
            store.save_op_bytes(op, version, fh)
    elif case == "save_bytes":
        store.save_op_bytes(op, version, data)
    elif case == "load_path":
        store.load_op_bytes_to(op, version, path)
    elif case == "load_stream":
        with open(path, "wb") as fh:
            store.load_op_bytes_to(op, version, fh)
    elif case == "load_bytes":
        moved = len(store.load_op_bytes(op, version))
    else:
        raise SystemExit(f"unknown case {case!r}")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_base_kib": base, "rss_peak_kib": _rss_kib(), "bytes": moved}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
