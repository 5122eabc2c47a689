"""CLI conventions and the defects found by a new user: exit codes, one-line errors,
--json errors, --version, python -m s3opstore, --endpoint-url, read-only commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from s3opstore import __version__
from s3opstore.errors import AlreadyExistsError
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from tests.cli.support import CliStore, make_cli_store, run_cli

CapSys = pytest.CaptureFixture[str]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "S3OPSTORE_URL"}


def test_unknown_ops_are_errors_not_empty_tables(local_store: CliStore, capsys: CapSys) -> None:
    store = local_store.open()
    store.register_version("pca", Version.from_parts(b"a"))
    store.register_pipeline("p", "model")  # known, without versions
    missing = run_cli(capsys, local_store, "versions", "nosuchop")
    assert (missing.code, missing.out) == (3, "")
    assert missing.err.startswith("error [op_not_found]: op 'nosuchop' is not known")
    links = run_cli(capsys, local_store, "links", "pca", "nosuch")
    assert links.code == 3
    assert links.err.startswith("error [op_not_found]: upstream op 'nosuch' is not known")
    known = run_cli(capsys, local_store, "--json", "versions", "model")
    assert (known.code, json.loads(known.out)) == (0, {"op": "model", "versions": []})
    unlinked = run_cli(capsys, local_store, "--json", "links", "model", "pca")
    assert unlinked.code == 0
    assert json.loads(unlinked.out)["versions"] == []


def test_read_only_commands_create_nothing(tmp_path: Path, capsys: CapSys) -> None:
    root = tmp_path / "absent"
    store = CliStore("local", root.as_uri())
    assert run_cli(capsys, store, "--json", "ops").code == 0
    assert run_cli(capsys, store, "pipelines").code == 0
    assert run_cli(capsys, store, "fsck").code == 0
    assert run_cli(capsys, store, "show", "pca").code == 3
    assert run_cli(capsys, store, "alias", "get", "pca", "production").code == 3
    assert run_cli(capsys, store, "show", "pca@production").code == 3
    assert not root.exists()
    root.mkdir()
    assert run_cli(capsys, store, "--json", "ops").code == 0
    assert list(root.iterdir()) == []  # no .s3opstore-tmp, -locks or layout file either
    OpStore.from_url(root.as_uri()).register_version("pca", Version.from_parts(b"a"))
    assert run_cli(capsys, store, "--json", "versions", "pca").code == 0


def test_a_refused_pipeline_registration_writes_nothing() -> None:
    store = OpStore.from_url("memory://")
    store.register_pipeline("p", "model")
    before = sorted(info.key for info in store.store.list(""))
    with pytest.raises(AlreadyExistsError, match="already registered with last op 'model'"):
        store.register_pipeline("p", "other")
    assert sorted(info.key for info in store.store.list("")) == before
    assert store.list_ops() == ["model"]


def test_expect_none_conflict_says_what_it_means(local_store: CliStore, capsys: CapSys) -> None:
    store = local_store.open()
    first, second = Version.from_parts(b"a"), Version.from_parts(b"b")
    for version in (first, second):
        store.register_version("pca", version)
    store.set_alias("pca", "prod", first)
    clash = run_cli(capsys, local_store, "alias", "set", "pca", "prod", "2.0.0", "--expect-none")
    assert clash.err == (f"error [conflict]: alias 'prod' of op 'pca' points at {first}; the "
                         "move required that it does not exist yet\n")
    absent = run_cli(capsys, local_store, "alias", "set", "pca", "new", "2.0.0",
                     "--expect", "1.0.0")
    assert absent.err == ("error [conflict]: alias 'new' of op 'pca' does not exist yet; the "
                          f"move required that it points at {first}\n")
    assert "None" not in clash.err + absent.err


def test_json_mode_reports_errors_as_json(local_store: CliStore, capsys: CapSys) -> None:
    result = run_cli(capsys, local_store, "--json", "show", "nosuchop")
    assert result.code == 3
    assert json.loads(result.out) == {"error": {
        "type": "op_not_found", "message": "op 'nosuchop' has no registered versions"}}
    assert result.err == ""


def test_errors_are_one_line(tmp_path: Path, capsys: CapSys,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bad = run_cli(capsys, None, "--store", "s3://Bad_Bucket!/x",
                  "--endpoint-url", "http://127.0.0.1:9", "versions", "pca")
    assert bad.code == 3
    assert bad.err == ("error [invalid_input]: store URL 's3://Bad_Bucket!/x': 'Bad_Bucket!' is "
                       "not a bucket name (3-255 letters, digits, '.', '-' or '_'; buckets "
                       "created today: 3-63 lower-case letters, digits, '.' and '-')\n")
    down = run_cli(capsys, None, "--store", "s3://bucket/x", "--endpoint-url",
                   "http://127.0.0.1:9", "versions", "pca")
    assert down.code == 3
    assert down.err.startswith("error [storage_unavailable]: S3 unreachable")
    assert down.err.endswith(" (endpoint http://127.0.0.1:9)\n")
    directory = tmp_path / "dir"
    directory.mkdir()
    store = CliStore("local", (tmp_path / "store").as_uri())
    opened = store.open()
    version = Version.from_parts(b"a")
    opened.register_version("pca", version)
    opened.save_op_bytes("pca", version, b"bytes")
    (directory / "pca-1.0.0.bin").mkdir()  # a directory where the file would go
    clash = run_cli(capsys, store, "pull", "pca", "-o", str(directory))
    assert clash.code == 3
    assert clash.err.count("\n") == 1
    assert "[Errno" not in clash.err
    assert ".pca-1.0.0.bin." not in clash.err  # never the temporary file's name


def test_pull_has_a_default_output_name(tmp_path: Path, capsys: CapSys,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = CliStore("local", (tmp_path / "store").as_uri())
    opened = store.open()
    version = Version.from_parts(b"a")
    opened.register_version("team/pca", version)
    opened.save_op_bytes("team/pca", version, b"bytes")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_cli(capsys, store, "pull", "team/pca").code == 0
    assert (work / "team_pca-1.0.0.bin").read_bytes() == b"bytes"
    into = tmp_path / "into"
    into.mkdir()
    result = run_cli(capsys, store, "--json", "pull", "team/pca@latest", "-o", str(into))
    assert json.loads(result.out)["output"] == str(into / "team_pca-1.0.0.bin")
    assert (into / "team_pca-1.0.0.bin").read_bytes() == b"bytes"


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    ran = subprocess.run([sys.executable, "-m", "s3opstore", "--version"], capture_output=True,
                         text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert (ran.returncode, ran.stdout) == (0, f"s3opstore {__version__}\n")
    ops = subprocess.run([sys.executable, "-m", "s3opstore", "--json", "ops"],
                         capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert (ops.returncode, json.loads(ops.stdout)) == (0, {"ops": []})


def test_endpoint_url_is_for_s3_stores(local_store: CliStore, capsys: CapSys) -> None:
    result = run_cli(capsys, local_store, "--endpoint-url", "http://127.0.0.1:9", "ops")
    assert result.code == 3
    assert result.err.startswith("error [invalid_input]: --endpoint-url 'http://127.0.0.1:9' "
                                 "applies to s3:// stores only")


def test_endpoint_url_reaches_the_named_server(request: pytest.FixtureRequest, tmp_path: Path,
                                               capsys: CapSys,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cli_store = make_cli_store("seaweedfs", request, tmp_path, monkeypatch)
    endpoint = cli_store.env.get("AWS_ENDPOINT_URL") or cli_store.env["AWS_ENDPOINT_URL_S3"]
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)  # only the flag names the server now
    result = run_cli(capsys, cli_store, "--endpoint-url", endpoint, "--json", "ops")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"ops": []}


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    store = OpStore.from_url((tmp_path / "store").as_uri())
    for index in range(3):
        store.register_version("pca", Version.from_parts(str(index)))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    ran = subprocess.run([sys.executable, "-m", "s3opstore", "--store", store.url, "versions",
                          "pca"], stdout=write_end, stderr=subprocess.PIPE, text=True,
                         env=_env(), timeout=120)
    os.close(write_end)
    assert (ran.returncode, ran.stderr) == (0, "")
