"""Helpers for the served API: Chariots' client on the wire, and `s3opstore serve` as a process.

``ChariotsWireClient`` sends exactly what Chariots' ``OpStoreClient`` sends
(``requests.post`` of ``json.dumps(body)`` with ``Content-Type:
application/json``, a fresh connection each call, no credentials; any status
but 200 raises, every body is parsed, falsy answers become ``None``). The
PyPI release ``chariots==0.2.4`` predates that client and does not import on
Python 3.11, so it cannot be the client here; the one difference from its
source is that it joins the server URL to the route (Chariots' own posts the
bare route, a known defect of the seed).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import requests

from s3opstore.models.version import Version

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class ChariotsWireClient:
    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, route: str, body: dict[str, Any]) -> Any:
        response = requests.post(self.url + route, headers={"Content-Type": "application/json"},
                                 data=json.dumps(body), timeout=120)
        if response.status_code != 200:
            raise ValueError(f"{route}: {response.status_code} {response.text[:300]}")
        return response.json()

    def get_all_versions_of_op(self, op: str) -> set[Version] | None:
        answer = self.post("/v1/get_all_versions_of_op", {"desired_op_name": op})
        return {Version.parse(v) for v in answer["all_versions"]} if answer else None

    def get_validated_links(self, downstream: str, upstream: str) -> set[Version] | None:
        answer = self.post("/v1/get_validated_links",
                           {"downstream_op_name": downstream, "upstream_op_name": upstream})
        return {Version.parse(v) for v in answer["upstream_versions"]} if answer else None

    def get_op_bytes_for_version(self, op: str, version: Version) -> bytes:
        answer = self.post("/v1/get_op_bytes_for_version",
                           {"desired_op_name": op, "version": str(version)})
        return base64.b64decode(answer["bytes"].encode("utf-8"))

    def save_op_bytes(self, op: str, version: Version, op_bytes: bytes) -> None:
        self.post("/v1/save_op_bytes", {"op_name": op, "version": str(version),
                                        "bytes": base64.b64encode(op_bytes).decode("utf-8")})

    def register_valid_link(self, downstream: str | None, upstream: str,
                            version: Version) -> None:
        self.post("/v1/register_valid_link", {"downstream_op_name": downstream,
                                              "upstream_op_name": upstream,
                                              "upstream_op_version": str(version)})

    def pipeline_exists(self, name: str) -> bool:
        return bool(self.post("/v1/pipeline_exists", {"pipeline_name": name})["exists"])

    def register_new_pipeline(self, name: str, last_op: str) -> None:
        self.post("/v1/register_new_pipeline", {"pipeline_name": name, "last_op_name": last_op})


def readme_command(text: str, start: str) -> str:
    """The one line of a ```bash block in ``text`` that starts with ``start``."""
    found: list[str] = [line.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)
             for line in block.splitlines() if line.strip().startswith(start)]
    assert len(found) == 1, found
    return found[0]


class Served:
    """A command line run as a process until its readiness line; stopped with SIGTERM."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str] | None = None) -> None:
        argv = shlex.split(command)
        argv[0] = str(BIN / argv[0])  # the installed console script, as a shell would find it
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})})
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        match = re.search(r" on (http://\S+?)/v1/", line)
        if match is None:
            self.stop()
            raise AssertionError(f"no readiness line: {line!r}")
        self.url = match.group(1)
        self.lines: list[str] = []  # the request log; drained, or a full pipe blocks the server
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines) if line.startswith("{")]

    def rss_peak_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]

    def stop(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=10)
        drain = getattr(self, "_drain", None)  # absent when the readiness line never came
        if drain is not None:
            drain.join(timeout=10)  # the log is read to its end before the pipe is closed
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        return code
