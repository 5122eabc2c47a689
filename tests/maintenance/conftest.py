"""A fresh store per backend (local directory and SeaweedFS) for end-to-end CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import BACKENDS, CliStore, make_cli_store


@pytest.fixture(params=BACKENDS)
def cli_store(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> CliStore:
    return make_cli_store(str(request.param), request, tmp_path, monkeypatch)


@pytest.fixture
def local_store(request: pytest.FixtureRequest, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> CliStore:
    return make_cli_store("local", request, tmp_path, monkeypatch)
