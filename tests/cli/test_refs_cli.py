"""Every CLI command that takes a version accepts the forms people use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s3opstore.cli.output import short_version
from s3opstore.models.version import Version
from tests.cli.support import CliStore, run_cli

CapSys = pytest.CaptureFixture[str]


def _store(cli_store: CliStore) -> list[Version]:
    store = cli_store.open()
    versions = [Version.from_parts(b"a"), Version.from_parts(b"a", b"x"),
                Version.from_parts(b"b")]
    for index, version in enumerate(versions):
        store.register_version("pca", version)
        store.save_op_bytes("pca", version, f"bytes-{index}".encode())
    store.set_alias("pca", "production", versions[1])
    return versions


def test_show_pull_and_alias_set_take_numbers_aliases_and_prefixes(
        local_store: CliStore, capsys: CapSys, tmp_path: Path) -> None:
    versions = _store(local_store)
    for argv in (["show", "pca", "1.1.0"], ["show", "pca@1.1.0"], ["show", "pca@production"],
                 ["show", "pca", short_version(versions[1])],
                 ["show", "pca", versions[1].major[:6] + "." + versions[1].minor[:6]]):
        result = run_cli(capsys, local_store, "--json", *argv)
        assert result.code == 0, (argv, result.err)
        assert json.loads(result.out)["version"] == str(versions[1]), argv
    shown = run_cli(capsys, local_store, "--json", "show", "pca@latest")
    assert json.loads(shown.out)["number"] == "2.0.0"

    target = tmp_path / "pulled.bin"
    assert run_cli(capsys, local_store, "pull", "pca", "--version", "1.0.0",
                   "-o", str(target)).code == 0
    assert target.read_bytes() == b"bytes-0"
    assert run_cli(capsys, local_store, "pull", "pca@production", "-o", str(target)).code == 0
    assert target.read_bytes() == b"bytes-1"

    moved = run_cli(capsys, local_store, "--json", "alias", "set", "pca", "production", "2.0.0",
                    "--expect", "1.1.0")
    assert moved.code == 0, moved.err
    assert json.loads(moved.out)["number"] == "2.0.0"


def test_a_missing_number_says_version_not_alias(local_store: CliStore, capsys: CapSys,
                                                 tmp_path: Path) -> None:
    _store(local_store)
    shown = run_cli(capsys, local_store, "show", "pca", "1.9.0")
    assert shown.code == 3
    assert shown.err == ("error [version_not_found]: op 'pca' has no version numbered 1.9.0 "
                         "(numbers 1.0.0 to 2.0.0)\n")
    pulled = run_cli(capsys, local_store, "pull", "pca", "--version", "1.9.0",
                     "-o", str(tmp_path / "x"))
    assert pulled.code == 3
    assert "alias" not in pulled.err
    refused = run_cli(capsys, local_store, "alias", "set", "pca", "1.0.0", "latest")
    assert refused.code == 3
    assert refused.err.startswith("error [invalid_input]: alias name '1.0.0' looks like")
