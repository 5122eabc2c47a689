"""One blob-transfer case in a fresh interpreter: time it, its CPU, its phases, its memory.

``python -m benchmarks._transfer_child '<json spec>'`` prints one JSON line:
``{"seconds", "cpu_seconds", "store_seconds", "rss_base_kib", "rss_peak_kib", "bytes"}``.
The baseline is taken after imports, client creation and one warm-up request
(and, for s3opstore, the one-time store probe), so the delta is what the
transfer itself added. ``ru_maxrss`` is the process's peak, in KiB on Linux.
``cpu_seconds`` is the client's own CPU (all threads) during the case;
``store_seconds`` is the wall time spent inside each S3Store method, so
``seconds`` minus their sum is the local work (hash pass, spool, verification).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HASH_CHUNK = 1024 * 1024


class _Unseekable:
    """A stream that cannot be rewound (an HTTP body, a pipe): s3opstore spools it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._inner.read(size)
        return data

    def seekable(self) -> bool:
        return False


def _rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed_methods(target: Any, names: tuple[str, ...]) -> dict[str, float]:
    """Wrap ``target``'s methods so the wall time spent in each is summed per name."""
    spent: dict[str, float] = defaultdict(float)
    for name in names:
        method: Callable[..., Any] = getattr(target, name)

        @functools.wraps(method)
        def wrapper(*args: Any, _m: Callable[..., Any] = method, _n: str = name,
                    **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                out = _m(*args, **kwargs)
                # A listing is lazy: drain it here so its requests count as store time.
                return iter(list(out)) if _n == "list" else out
            finally:
                spent[_n] += time.perf_counter() - start

        setattr(target, name, wrapper)
    return spent


def _hash_file(path: Path) -> str:
    """The floor's hash pass: one SHA-256 over the file, as plainly as Python allows."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while read := fh.readinto(buffer):
            digest.update(view[:read])
    return digest.hexdigest()


def _spool_file(path: Path) -> None:
    """What spooling a stream that cannot seek costs on its own: the file copied, as
    s3opstore spools (its read size, its SpooledTemporaryFile size), no hash."""
    from s3opstore.registry.blob_source import _CHUNK, _SPOOL

    with open(path, "rb") as fh, tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
        while chunk := fh.read(_CHUNK):
            spool.write(chunk)


def run(spec: dict[str, Any]) -> dict[str, Any]:
    os.environ.update(spec["env"])
    import boto3  # noqa: F401 - imported before the baseline on purpose

    from s3opstore import OpStore
    from s3opstore.stores.s3 import S3Store, default_client

    client = default_client()
    client.head_bucket(Bucket=spec["bucket"])  # open a connection before timing
    case, path = spec["case"], Path(spec["path"])
    s3 = S3Store(spec["bucket"], spec["prefix"], client=client)
    store = OpStore(s3)
    if not case.startswith("raw_") and case != "hash":
        store.check_store()
    spent = _timed_methods(s3, ("head", "get", "put", "list", "upload", "download", "copy"))
    op, version = spec.get("op", ""), spec.get("version", "")
    data = path.read_bytes() if case == "save_bytes" else b""
    base = _rss_kib()
    cpu = _cpu()
    start = time.perf_counter()
    moved = spec["size"]
    if case == "raw_upload":
        client.upload_file(str(path), spec["bucket"], spec["key"])
    elif case == "raw_upload_sha256":
        # What S3's SHA-256 part checksums would cost on their own (s3opstore sent them
        # until issue 17; it sends CRC32 on parts now, docs/design.md D11).
        client.upload_file(str(path), spec["bucket"], spec["key"] + "-sha256",
                           ExtraArgs={"ChecksumAlgorithm": "SHA256"})
    elif case == "raw_download":
        client.download_file(spec["bucket"], spec["key"], str(path))
    elif case == "hash":
        _hash_file(path)
    elif case == "spool":
        _spool_file(path)
    elif case == "save_path":
        store.save_op_bytes(op, version, path)
    elif case == "save_stream":
        with open(path, "rb") as fh:
            store.save_op_bytes(op, version, fh)
    elif case == "save_unseekable":
        with open(path, "rb") as fh:
            store.save_op_bytes(op, version, _Unseekable(fh))  # type: ignore[arg-type]
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
    return {"seconds": seconds, "cpu_seconds": _cpu() - cpu,
            "store_seconds": {name: round(value, 4) for name, value in spent.items()},
            "rss_base_kib": base, "rss_peak_kib": _rss_kib(), "bytes": moved}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
