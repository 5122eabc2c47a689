"""Helpers shared by the CLI and maintenance tests: a store per backend, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from s3opstore.cli.main import main
from s3opstore.registry.opstore import OpStore

BACKENDS = ["local", "seaweedfs"]


@dataclass
class CliStore:
    """A fresh store reachable by URL; ``env`` is what a process needs to reach it."""

    backend: str
    url: str
    env: dict[str, str] = field(default_factory=dict)

    def open(self) -> OpStore:
        return OpStore.from_url(self.url)


def make_cli_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> CliStore:
    monkeypatch.delenv("S3OPSTORE_URL", raising=False)
    if backend == "local":
        return CliStore(backend, (tmp_path / "store").as_uri())
    server = request.getfixturevalue("seaweed")
    bucket = _bucket(server)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)  # the in-process CLI reaches the server too
    return CliStore(backend, f"s3://{bucket}/cli-{uuid.uuid4().hex[:10]}", server.env())


_BUCKETS: dict[int, str] = {}


def _bucket(server: object) -> str:
    if id(server) not in _BUCKETS:
        _BUCKETS[id(server)] = server.new_bucket("cli")  # type: ignore[attr-defined]
    return _BUCKETS[id(server)]


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], store: CliStore | None, *argv: str) -> Result:
    """Call ``main(argv)`` in process with ``--store``; capture what it printed."""
    capsys.readouterr()
    args = (["--store", store.url] if store is not None else []) + list(argv)
    code = main(args)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def run_subprocess(store: CliStore, *argv: str, cwd: Path | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The console script's code path in a separate process."""
    env = {k: v for k, v in os.environ.items() if k != "S3OPSTORE_URL"}
    env.update(store.env)
    return subprocess.run([sys.executable, "-m", "s3opstore.cli", "--store", store.url, *argv],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture(params=BACKENDS)
def cli_store(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> CliStore:
    """A fresh store per backend (local directory and SeaweedFS) for end-to-end tests."""
    return make_cli_store(str(request.param), request, tmp_path, monkeypatch)


@pytest.fixture
def local_store(request: pytest.FixtureRequest, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> CliStore:
    return make_cli_store("local", request, tmp_path, monkeypatch)
