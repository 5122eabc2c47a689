"""Model URIs wherever the CLI takes OP@REF: the URI names the store, the op and the version."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.registry.uri import model_uri
from tests.cli.support import CliStore, run_cli

A = Version.from_parts(b"a")
B = Version.from_parts(b"b")


@pytest.fixture
def filled(cli_store: CliStore) -> CliStore:
    store = cli_store.open()
    for version, data in ((A, b"bytes of a"), (B, b"bytes of b")):
        store.register_version("pca", version)
        store.save_op_bytes("pca", version, data)
    store.set_alias("pca", "production", A)
    return cli_store


def test_pull_and_show_take_a_model_uri(filled: CliStore,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    uri = model_uri(filled.url, "pca", "production")
    assert uri.startswith(("s3opstore://", "s3opstore+file://")) and uri.endswith("@production")
    pulled = run_cli(capsys, None, "pull", uri, "-o", "-")  # no --store: the URI names it
    assert (pulled.code, pulled.out) == (0, "bytes of a")
    shown = json.loads(run_cli(capsys, None, "--json", "show", uri).out)
    assert (shown["op"], shown["number"]) == ("pca", "1.0.0")
    latest = run_cli(capsys, None, "pull", model_uri(filled.url, "pca").rsplit("@", 1)[0],
                     "-o", "-")
    assert (latest.code, latest.out) == (0, "bytes of b")  # no @REF: latest
    # Without @REF in the URI, REF / --version still choose the version.
    bare = model_uri(filled.url, "pca").rsplit("@", 1)[0]
    shown = json.loads(run_cli(capsys, None, "--json", "show", bare, "production").out)
    assert shown["number"] == "1.0.0"
    # The same store given by --store as well is fine.
    assert run_cli(capsys, filled, "pull", uri, "-o", "-").out == "bytes of a"


def test_the_uri_wins_over_the_environment(filled: CliStore, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("S3OPSTORE_URL", (tmp_path / "elsewhere").as_uri())
    pulled = run_cli(capsys, None, "pull", model_uri(filled.url, "pca", "1.0.0"), "-o", "-")
    assert (pulled.code, pulled.out) == (0, "bytes of a")
    assert not (tmp_path / "elsewhere").exists()


def test_retire_and_tag_take_a_model_uri(filled: CliStore,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    uri = model_uri(filled.url, "pca", "production")
    assert run_cli(capsys, None, "deprecate", uri, "--reason", "old").code == 0
    entry = filled.open().status("pca", A)
    assert entry is not None and entry.state == "deprecated"
    assert run_cli(capsys, None, "tag", "set", uri, "team=vision").code == 0
    assert filled.open().get_tags("pca", A) == {"team": "vision"}


def test_a_uri_naming_another_store_is_a_usage_error(filled: CliStore, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    other = (tmp_path / "other").as_uri()
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, None, "--store", other, "pull", model_uri(filled.url, "pca"), "-o", "-")
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "but --store names" in err and other in err
    assert not (tmp_path / "other").exists()  # nothing opened, nothing written


@pytest.mark.parametrize(("argv", "message"), [
    (["show", "{uri}", "1.0.0"], "drop REF"),
    (["pull", "{uri}", "--version", "1.0.0"], "drop --version"),
    (["pull", "{uri}", "--alias", "production"], "drop --alias"),
    (["pull", "s3opstore:///pca@production"], "names no bucket"),
    (["show", "s3opstore://bucket/prefix/"], "names no op"),
])
def test_malformed_or_doubled_uris_are_usage_errors(
        filled: CliStore, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str) -> None:
    uri = model_uri(filled.url, "pca", "production")
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, None, *(arg.format(uri=uri) for arg in argv))
    assert info.value.code == 2
    assert message in capsys.readouterr().err


EXAMPLE = Path("/tmp/s3opstore-example")  # the directory docs/cli.md and README.md name


@pytest.mark.parametrize("doc", ["docs/cli.md", "README.md"])
def test_the_documented_uri_command_runs_as_written(
        doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[2] / doc).read_text()
    found = re.search(r"s3opstore pull s3opstore\+file://[^`\n]+", text)
    assert found is not None
    line = found.group(0).strip()
    monkeypatch.delenv("S3OPSTORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    # One fixed directory for every case (and every pytest run on the machine): the
    # cases take turns, or one removes it under the other (seen under pytest -n 2).
    with open(f"{EXAMPLE}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(EXAMPLE, ignore_errors=True)
        try:
            store = OpStore.from_url(EXAMPLE.as_uri())
            store.register_version("pca", A)
            store.save_op_bytes("pca", A, b"production weights")
            store.set_alias("pca", "production", A)
            result = run_cli(capsys, None, *line.split()[1:])
            assert result.code == 0, result.err
            assert (tmp_path / "model.bin").read_bytes() == b"production weights"
        finally:
            shutil.rmtree(EXAMPLE, ignore_errors=True)
