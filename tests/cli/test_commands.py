"""Every CLI command end to end, on the local store and on SeaweedFS."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from s3opstore.models.version import Version
from tests.cli.support import CliStore, run_cli, run_subprocess

CapSys = pytest.CaptureFixture[str]


def _json(capsys: CapSys, store: CliStore, *argv: str) -> object:
    result = run_cli(capsys, store, "--json", *argv)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_browse_commands_after_demo(cli_store: CliStore, capsys: CapSys) -> None:
    assert run_cli(capsys, cli_store, "--json", "demo").code == 0

    ops = _json(capsys, cli_store, "ops")
    assert ops == {"ops": [
        {"op": "classifier", "versions": 2, "latest_number": "1.1.0",
         "latest_version": ops["ops"][0]["latest_version"]},  # type: ignore[index]
        {"op": "pca", "versions": 4, "latest_number": "2.0.0",
         "latest_version": ops["ops"][1]["latest_version"]},  # type: ignore[index]
        {"op": "scaler", "versions": 1, "latest_number": "1.0.0",
         "latest_version": ops["ops"][2]["latest_version"]},  # type: ignore[index]
    ]}
    versions = _json(capsys, cli_store, "versions", "pca")
    assert isinstance(versions, dict)
    assert [v["number"] for v in versions["versions"]] == ["1.0.0", "1.1.0", "1.1.1", "2.0.0"]
    assert [v["seq"] for v in versions["versions"]] == [0, 1, 2, 3]
    first = versions["versions"][0]
    assert Version.parse(first["version"]).major == first["major"]

    shown = _json(capsys, cli_store, "show", "classifier", "production")
    assert isinstance(shown, dict)
    assert shown["number"] == "1.1.0"
    assert shown["aliases"] == ["production"]
    assert shown["bytes"]["size"] == 4224
    by_string = _json(capsys, cli_store, "show", "pca", first["version"])
    assert isinstance(by_string, dict)
    assert by_string["number"] == "1.0.0"
    assert by_string["aliases"] == []

    links = _json(capsys, cli_store, "links", "classifier", "pca")
    assert links == {"downstream": "classifier", "upstream": "pca",
                     "versions": [{"version": versions["versions"][3]["version"],
                                   "number": "2.0.0"}]}
    pipelines = _json(capsys, cli_store, "pipelines")
    assert isinstance(pipelines, dict)
    assert [(p["pipeline"], p["last_op"]) for p in pipelines["pipelines"]] == [
        ("iris_classification", "classifier")]

    # Tables for people.
    table = run_cli(capsys, cli_store, "versions", "pca")
    assert table.code == 0
    assert "2.0.0" in table.out
    assert "423f65fa.71918d3f.da39a3ee_2026-01-05 12:00:00" in table.out
    assert run_cli(capsys, cli_store, "ops").out.count("classifier") == 1


def test_push_pull_round_trip(cli_store: CliStore, capsys: CapSys, tmp_path: Path) -> None:
    payload = os.urandom(300_000)
    source = tmp_path / "model.bin"
    source.write_bytes(payload)
    version = str(Version.from_parts(b"model", b"weights-1"))

    missing = run_cli(capsys, cli_store, "push", "model", str(source), "--version", version)
    assert missing.code == 3
    assert missing.err.startswith("error [op_not_found]")

    pushed = _json(capsys, cli_store, "push", "model", str(source), "--version", version,
                   "--register", "--idempotency-key", "push-1")
    assert isinstance(pushed, dict)
    assert pushed["sha256"] == hashlib.sha256(payload).hexdigest()
    assert pushed["size"] == len(payload)
    assert pushed["number"] == "1.0.0"
    # Same key again: the same binding, not a second one.
    again = _json(capsys, cli_store, "push", "model", str(source), "--version", version,
                  "--idempotency-key", "push-1")
    assert again == pushed
    assert capsys.readouterr().err == ""  # no progress bar when stderr is not a terminal

    target = tmp_path / "out" / "pulled.bin"
    target.parent.mkdir()
    pulled = _json(capsys, cli_store, "pull", "model", "-o", str(target))
    assert target.read_bytes() == payload
    assert isinstance(pulled, dict)
    assert pulled["sha256"] == pushed["sha256"]

    assert run_cli(capsys, cli_store, "alias", "set", "model", "prod", version).code == 0
    by_alias = tmp_path / "by-alias.bin"
    assert run_cli(capsys, cli_store, "pull", "model", "--alias", "prod",
                   "-o", str(by_alias)).code == 0
    assert by_alias.read_bytes() == payload
    by_version = tmp_path / "by-version.bin"
    assert run_cli(capsys, cli_store, "pull", "model", "--version", version,
                   "-o", str(by_version)).code == 0
    assert by_version.read_bytes() == payload


def test_pull_to_stdout_in_a_subprocess(cli_store: CliStore, tmp_path: Path) -> None:
    store = cli_store.open()
    version = Version.from_parts(b"m")
    store.register_version("op1", version)
    store.save_op_bytes("op1", version, b"\x00binary\xffpayload")
    result = subprocess.run(
        [sys.executable, "-m", "s3opstore.cli", "--store", cli_store.url, "pull", "op1",
         "-o", "-"], capture_output=True,
        env={**{k: v for k, v in os.environ.items() if k != "S3OPSTORE_URL"}, **cli_store.env},
        timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"\x00binary\xffpayload"


def test_pull_refuses_corrupt_bytes(local_store: CliStore, capsys: CapSys,
                                    tmp_path: Path) -> None:
    store = local_store.open()
    version = Version.from_parts(b"m")
    store.register_version("op1", version)
    saved = store.save_op_bytes("op1", version, b"good bytes")
    store.store.put(saved.key, b"evil bytes")  # same size, other content
    target = tmp_path / "x.bin"
    result = run_cli(capsys, local_store, "pull", "op1", "-o", str(target))
    assert result.code == 3
    assert result.err.startswith("error [integrity]: blob")
    assert not target.exists()


def test_alias_commands(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    v1, v2 = Version.from_parts(b"a", b"1"), Version.from_parts(b"a", b"2")
    store.register_version("clf", v1)
    store.register_version("clf", v2)

    assert run_cli(capsys, cli_store, "alias", "set", "clf", "prod", str(v1),
                   "--expect-none").code == 0
    clash = run_cli(capsys, cli_store, "alias", "set", "clf", "prod", str(v2), "--expect-none")
    assert clash.code == 3
    assert clash.err.startswith("error [conflict]: alias 'prod' of op 'clf' points at")
    wrong = run_cli(capsys, cli_store, "alias", "set", "clf", "prod", str(v2), "--expect", str(v2))
    assert wrong.code == 3
    moved = _json(capsys, cli_store, "alias", "set", "clf", "prod", "latest",
                  "--expect", str(v1))
    assert isinstance(moved, dict)
    assert (moved["number"], moved["seq"]) == ("1.1.0", 1)

    got = _json(capsys, cli_store, "alias", "get", "clf", "prod")
    assert isinstance(got, dict)
    assert (got["alias"], got["number"], got["version"]) == ("prod", "1.1.0", str(v2))
    history = _json(capsys, cli_store, "alias", "history", "clf", "prod")
    assert isinstance(history, dict)
    assert [(h["seq"], h["number"]) for h in history["history"]] == [(0, "1.0.0"), (1, "1.1.0")]
    listed = _json(capsys, cli_store, "alias", "list", "clf")
    assert isinstance(listed, dict)
    assert [(a["alias"], a["number"], a["positions"]) for a in listed["aliases"]] == [
        ("prod", "1.1.0", 2)]
    absent = run_cli(capsys, cli_store, "alias", "get", "clf", "staging")
    assert absent.code == 3
    assert absent.err.startswith("error [alias_not_found]")


def test_resolve_follows_the_major_version_rule(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    store.register_pipeline("p", "model")
    up1 = Version.from_parts(b"feat-A", b"fit-1")
    up2 = Version.from_parts(b"feat-A", b"fit-2")  # same major: still compatible
    up3 = Version.from_parts(b"feat-B", b"fit-1")  # newest, new major: not validated
    for version in (up1, up2, up3):
        store.register_version("features", version)
    model = Version.from_parts(b"lr")
    store.register_valid_link("model", "features", up1)
    store.register_valid_link(None, "model", model)

    resolved = _json(capsys, cli_store, "resolve", "p")
    assert resolved == {"pipeline": "p", "last_op": "model", "ok": True, "missing": [], "ops": [
        {"op": "model", "version": str(model), "number": "1.0.0", "seq": 0, "is_latest": True,
         "downstream": []},
        {"op": "features", "version": str(up2), "number": "1.1.0", "seq": 1,
         "is_latest": False, "downstream": ["model"]},
    ]}
    table = run_cli(capsys, cli_store, "resolve", "p")
    assert table.code == 0
    assert "features" in table.out


def test_resolve_names_the_missing_link(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    store.register_pipeline("p", "model")
    result = run_cli(capsys, cli_store, "resolve", "p")
    assert result.code == 1
    assert "missing link: op 'model' has no registered versions" in result.err

    # A diamond: 'features' feeds two ops that validated different majors.
    store.register_valid_link(None, "model", Version.from_parts(b"m"))
    store.register_valid_link("model", "left", Version.from_parts(b"l"))
    store.register_valid_link("model", "right", Version.from_parts(b"r"))
    store.register_valid_link("left", "features", Version.from_parts(b"A"))
    store.register_valid_link("right", "features", Version.from_parts(b"B"))
    result = run_cli(capsys, cli_store, "--json", "resolve", "p")
    assert result.code == 1
    body = json.loads(result.out)
    assert body["ok"] is False
    assert [op["op"] for op in body["ops"]] == ["model", "left", "right"]
    assert body["missing"] == [{
        "upstream": "features", "downstream": "left, right",
        "reason": "no version of 'features' has a major version validated by all of "
                  "'left', 'right'"}]
    absent = run_cli(capsys, cli_store, "resolve", "nope")
    assert absent.code == 3
    assert absent.err.startswith("error [pipeline_not_found]")


def test_chariots_names_through_the_cli(cli_store: CliStore, capsys: CapSys) -> None:
    """Names with spaces, dots, case and Unicode: listed, resolved and shown as they are."""
    store = cli_store.open()
    store.register_pipeline("outer pipe", "Modèle v2")
    source, nested, model = (Version.from_parts(b"src"), Version.from_parts(b"nested"),
                             Version.from_parts(b"lr"))
    store.register_valid_link("inner pipe", "iris data", source)
    store.register_valid_link("Modèle v2", "inner pipe", nested)
    store.register_valid_link(None, "Modèle v2", model)
    ops = _json(capsys, cli_store, "ops")
    assert [op["op"] for op in ops["ops"]] == [  # type: ignore[index]
        "Modèle v2", "inner pipe", "iris data"]
    resolved = _json(capsys, cli_store, "resolve", "outer pipe")
    assert resolved["ok"] is True  # type: ignore[index]
    assert [op["op"] for op in resolved["ops"]] == [  # type: ignore[index]
        "Modèle v2", "inner pipe", "iris data"]
    table = run_cli(capsys, cli_store, "versions", "inner pipe")
    assert table.code == 0 and table.out.startswith("versions of inner pipe")
    assert str(nested) in run_cli(capsys, cli_store, "--json", "versions", "inner pipe").out
    other_case = run_cli(capsys, cli_store, "--json", "versions", "Inner pipe")
    assert str(nested) not in other_case.out  # case is significant
    assert _json(capsys, cli_store, "fsck")["ok"] is True  # type: ignore[index]


def test_errors_are_one_line_unless_verbose(local_store: CliStore, capsys: CapSys) -> None:
    bad = run_cli(capsys, local_store, "versions", "bad\tname")
    assert bad.code == 3
    assert bad.err.count("\n") == 1
    assert bad.err.startswith("error [invalid_name]: invalid op name 'bad\\tname'")
    assert "Traceback" not in bad.err
    verbose = run_cli(capsys, local_store, "versions", "bad\tname", "--verbose")
    assert verbose.code == 3
    assert "Traceback" in verbose.err
    assert verbose.err.rstrip().endswith("it contains the control character U+0009")
    unknown = run_cli(capsys, local_store, "show", "ghost")
    assert unknown.err.startswith("error [op_not_found]")
    bad_url = run_cli(capsys, None, "--store", "ftp://x", "ops")
    assert (bad_url.code, bad_url.err.split(":")[0]) == (3, "error [invalid_input]")


def test_console_script_in_a_subprocess(cli_store: CliStore, tmp_path: Path) -> None:
    demo = run_subprocess(cli_store, "demo", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "7 new versions" in demo.stdout
    versions = run_subprocess(cli_store, "--json", "versions", "classifier")
    assert versions.returncode == 0, versions.stderr
    assert [v["number"] for v in json.loads(versions.stdout)["versions"]] == ["1.0.0", "1.1.0"]
    failing = run_subprocess(cli_store, "show", "pca", "nope-alias")
    assert failing.returncode == 3
    assert failing.stderr.strip() == "error [alias_not_found]: op 'pca' has no alias 'nope-alias'"


def test_push_shows_a_progress_bar_on_a_terminal(local_store: CliStore, tmp_path: Path) -> None:
    store = local_store.open()
    version = Version.from_parts(b"big")
    store.register_version("big", version)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("S3OPSTORE_URL", "S3OPSTORE_PLAIN")}
    env.update(COLUMNS="100", TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "s3opstore.cli", "--store", local_store.url, "push", "big",
         str(source), "--version", str(version)], stdout=subprocess.PIPE, stderr=follower,
        env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    terminal = b"".join(chunks).decode(errors="replace")
    assert "uploading" in terminal or "hashing" in terminal
    assert "MB" in terminal
    assert b"pushed" in out
    assert store.load_op_bytes("big", version) == source.read_bytes()
