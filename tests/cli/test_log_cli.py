"""``s3opstore log`` and ``fsck --repair`` (design.md, D16), as the documents show them.

The README's history block and docs/cli.md's commands run exactly as written; CLI
writes leave events; bad arguments are refused naming the value.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from s3opstore.models.keys import EVENTS_PREFIX
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from tests.cli.support import CliStore, make_cli_store, run_cli
from tests.reliability.interleave import Hook, Hooked, Killed

CapSys = pytest.CaptureFixture[str]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["local", "seaweedfs"])
def cli_store(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> CliStore:
    return make_cli_store(request.param, request, tmp_path, monkeypatch)


def _readme_history_block() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## History", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def _run_line(capsys: CapSys, store: CliStore, line: str,
              monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """One documented shell line: leading VAR=value words are its environment."""
    words = shlex.split(line)
    with monkeypatch.context() as patch:
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            patch.setenv(name, value)
        assert words[0] == "s3opstore"
        result = run_cli(capsys, store, *words[1:])
    return result.code, result.out, result.err


def test_the_readme_history_commands_run_as_written(
        cli_store: CliStore, capsys: CapSys, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _readme_history_block()
    assert [shlex.split(line)[1:3] for line in lines] == [
        ["s3opstore", "register"], ["log", "clf"], ["fsck", "--repair"]]
    code, _out, err = _run_line(capsys, cli_store, lines[0], monkeypatch)
    assert code == 0, err
    monkeypatch.setenv("S3OPSTORE_PLAIN", "1")
    code, out, err = _run_line(capsys, cli_store, lines[1], monkeypatch)
    assert code == 0, err
    row = next(x for x in out.splitlines() if "version.register" in x)
    assert "ci-bot" in row and "clf" in row
    code, out, err = _run_line(capsys, cli_store, lines[2], monkeypatch)
    assert code == 0, err
    assert "clean" in out and "recovered" not in err


def test_the_documented_cli_commands_run_as_written(
        cli_store: CliStore, capsys: CapSys, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (REPO / "docs" / "cli.md").read_text()
    log_line = next(x.strip() for x in doc.splitlines() if x.strip().startswith("s3opstore log "))
    repair_line = next(x.strip() for x in doc.splitlines()
                       if x.strip().startswith("s3opstore fsck --repair"))
    store = cli_store.open()
    store.register_version("clf", _version("1"))
    # a writer killed between its write and its event: the write is there, unlogged
    hooked = OpStore(Hooked(store.store, Hook("put", EVENTS_PREFIX, _die)))
    with pytest.raises(Killed):
        hooked.set_alias("clf", "prod", _version("1"))
    assert run_cli(capsys, cli_store, "fsck").code == 1

    code, out, err = _run_line(capsys, cli_store, repair_line, monkeypatch)
    assert code == 0, err
    assert "recovered: alias.set" in err
    again = run_cli(capsys, cli_store, "fsck", "--repair")
    assert again.code == 0 and "recovered" not in again.err

    code, out, err = _run_line(capsys, cli_store, log_line + " --json", monkeypatch)
    assert code == 0, err
    events = json.loads(out)["events"]
    assert [(e["action"], e["recovered"]) for e in events] == [
        ("alias.set", True), ("version.register", False)]


def test_cli_writes_are_logged_and_log_merges_chains(cli_store: CliStore,
                                                     capsys: CapSys) -> None:
    assert run_cli(capsys, cli_store, "register", "a", "--major", "text:1").code == 0
    assert run_cli(capsys, cli_store, "register", "b", "--major", "text:1").code == 0
    assert run_cli(capsys, cli_store, "alias", "set", "a", "prod", "latest").code == 0
    assert run_cli(capsys, cli_store, "hide", "b").code == 0
    result = run_cli(capsys, cli_store, "log", "--json")
    assert result.code == 0, result.err
    events = json.loads(result.out)["events"]
    assert {(e["op"], e["action"]) for e in events} == {
        ("a", "version.register"), ("b", "version.register"), ("a", "alias.set"),
        ("b", "status.set")}
    assert len(json.loads(run_cli(capsys, cli_store, "log", "--limit", "1",
                                  "--json").out)["events"]) == 1


@pytest.mark.parametrize(("argv", "named"), [
    (["log", "--limit", "0"], "limit 0"), (["log", "bad\x00op"], "U+0000")])
def test_bad_log_arguments(cli_store: CliStore, capsys: CapSys, argv: list[str],
                           named: str) -> None:
    result = run_cli(capsys, cli_store, *argv)
    assert result.code == 3
    assert result.err.startswith("error [invalid_") and named in result.err


def _die() -> None:
    raise Killed


def _version(text: str) -> Version:
    return Version.from_parts(major=text)
