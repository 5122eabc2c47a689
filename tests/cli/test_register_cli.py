"""``s3opstore register``: a registry run from the CLI alone."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore.registry.build import build_version
from tests.cli.support import CliStore, run_cli

CapSys = pytest.CaptureFixture[str]


def test_register_from_files_then_pull_by_alias(cli_store: CliStore, capsys: CapSys,
                                                tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("depth: 3\n")
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights" * 100)
    result = run_cli(capsys, cli_store, "--json", "register", "clf", "--major", str(params),
                     "--minor", str(model), "--patch", "text:fp16",
                     "--created", "2024-01-02T03:04:05", "--file", str(model),
                     "--alias", "production")
    assert result.code == 0, result.err
    body = json.loads(result.out)
    expected = build_version(params, model, "fp16", creation_time=datetime(2024, 1, 2, 3, 4, 5))
    assert body["version"] == str(expected)
    assert (body["number"], body["bytes"]["size"], body["alias"]) == (
        "1.0.0", 700, {"alias": "production", "seq": 0})
    again = run_cli(capsys, cli_store, "--json", "register", "clf", "--version", str(expected))
    assert json.loads(again.out)["seq"] == 0  # the same hashes: the first record
    target = tmp_path / "out.bin"
    assert run_cli(capsys, cli_store, "pull", "clf@production", "-o", str(target)).code == 0
    assert target.read_bytes() == model.read_bytes()


def test_register_refuses_unclear_input(local_store: CliStore, capsys: CapSys,
                                        tmp_path: Path) -> None:
    absent = run_cli(capsys, local_store, "register", "clf", "--major", "params.yaml")
    assert absent.err == ("error [invalid_input]: --major 'params.yaml': no file or directory "
                          "there (use text:VALUE for literal text)\n")
    both = run_cli(capsys, local_store, "register", "clf", "--major", "text:x", "--version", "v")
    assert both.err.startswith("error [invalid_input]: use either --version or")
    late = run_cli(capsys, local_store, "register", "clf", "--created", "yesterday")
    assert late.err.startswith("error [invalid_input]: --created 'yesterday' is not")
    assert not Path(local_store.url.removeprefix("file://")).exists()  # nothing was written


def test_the_documented_register_command_runs_as_written(
        local_store: CliStore, capsys: CapSys, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    line = next(x for x in doc.splitlines() if x.startswith("s3opstore register "))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("depth: 3\n")
    (tmp_path / "model.bin").write_bytes(b"weights")
    result = run_cli(capsys, local_store, *line.split()[1:])
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "clf@production -> 1.0.0"
