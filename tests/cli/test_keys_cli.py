"""``keys generate``, ``push --sign-key``, ``pull``/``show`` reporting the signer, ``pull
--trusted-keys`` refusing every attack, and ``fsck --trusted-keys`` (design.md, D15)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from s3opstore.models.version import Version
from s3opstore.trust import load_signing_key
from tests.cli.support import CliStore, run_cli
from tests.trust.attacks import ATTACKS, GENUINE, OP, SIGNED, TARGET, stage

CapSys = pytest.CaptureFixture[str]


def _keys(capsys: CapSys, tmp_path: Path, name: str) -> tuple[Path, str]:
    private = tmp_path / name
    result = run_cli(capsys, None, "--json", "keys", "generate", str(private))
    assert result.code == 0, result.err
    answer = json.loads(result.out)
    assert answer == {"key_id": load_signing_key(private).key_id, "private": str(private),
                      "public": f"{private}.pub"}
    return private, answer["key_id"]


def test_keys_generate_is_private_and_never_overwrites(capsys: CapSys, tmp_path: Path) -> None:
    private, kid = _keys(capsys, tmp_path, "signer")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    before = private.read_bytes()
    again = run_cli(capsys, None, "keys", "generate", str(private))
    assert again.code == 3 and again.err.startswith("error [invalid_key_file]: key file")
    assert str(private) in again.err and private.read_bytes() == before
    for name in (str(private), f"{private}.pub"):
        shown = run_cli(capsys, None, "keys", "id", name)
        assert (shown.code, shown.out.strip()) == (0, kid)


def test_signed_push_show_pull(cli_store: CliStore, capsys: CapSys, tmp_path: Path) -> None:
    private, kid = _keys(capsys, tmp_path, "signer")
    _stranger, _ = _keys(capsys, tmp_path, "stranger")
    source = tmp_path / "model.bin"
    source.write_bytes(b"signed weights")
    version = str(Version.from_parts(b"signed"))
    pushed = run_cli(capsys, cli_store, "--json", "push", "model", str(source), "--version",
                     version, "--register", "--sign-key", str(private))
    assert pushed.code == 0, pushed.err
    assert json.loads(pushed.out)["signed_by"] == kid
    shown = run_cli(capsys, cli_store, "show", "model")
    assert shown.code == 0 and "bytes signed by" in shown.out and kid in shown.out
    target = tmp_path / "pulled.bin"
    pulled = run_cli(capsys, cli_store, "pull", "model", "-o", str(target),
                     "--trusted-keys", f"{private}.pub")
    assert pulled.code == 0, pulled.err
    assert f"signed by key {kid} (verified)" in pulled.out
    assert target.read_bytes() == b"signed weights"
    refused = run_cli(capsys, cli_store, "pull", "model", "-o", str(tmp_path / "no.bin"),
                      "--trusted-keys", str(tmp_path / "stranger.pub"))
    assert refused.code == 3 and refused.err.startswith("error [untrusted_bytes]")
    assert kid in refused.err and not (tmp_path / "no.bin").exists()


@pytest.mark.parametrize("attack", ATTACKS)
def test_pull_refuses_every_attack(cli_store: CliStore, capsys: CapSys, tmp_path: Path,
                                   attack: str) -> None:
    scene = stage(cli_store.open().store, attack)
    trusted = tmp_path / "trusted.pub"
    trusted.write_bytes(scene.key.public_pem())
    target = tmp_path / "out.bin"
    plain = run_cli(capsys, cli_store, "pull", OP, "--version", str(TARGET), "-o", str(target))
    assert plain.code == 0 and target.read_bytes() == scene.attack_bytes  # unchecked: loads
    target.unlink()
    result = run_cli(capsys, cli_store, "pull", OP, "--version", str(TARGET), "-o",
                     str(target), "--trusted-keys", str(trusted))
    assert result.code == 3, result.out
    assert result.err.startswith("error [untrusted_bytes]")
    assert (scene.refused_key_id or "unsigned") in result.err and OP in result.err
    assert not target.exists()
    ok = run_cli(capsys, cli_store, "pull", OP, "--version", str(SIGNED), "-o", str(target),
                 "--trusted-keys", str(trusted))
    assert ok.code == 0 and target.read_bytes() == GENUINE

    report = run_cli(capsys, cli_store, "--json", "fsck", "--trusted-keys", str(trusted))
    assert report.code == 1, report.err
    problems = json.loads(report.out)["problems"]
    # A binding appended past the registry (forged, swapped) has no event in the history
    # either (D16): fsck names it twice, once per check; the signed ones have their event.
    raw = attack in ("forged", "swapped")
    assert sorted(p["kind"] for p in problems) == ["unlogged"] * raw + ["untrusted_bytes"]
    assert all(f"/bytes/{TARGET.vid}/" in p["key"] for p in problems)
    plain_fsck = run_cli(capsys, cli_store, "--json", "fsck")  # without keys: no opinion
    assert [p["kind"] for p in json.loads(plain_fsck.out)["problems"]] == ["unlogged"] * raw


def test_fsck_counts_good_signatures(local_store: CliStore, capsys: CapSys,
                                     tmp_path: Path) -> None:
    private, _kid = _keys(capsys, tmp_path, "signer")
    source = tmp_path / "m.bin"
    source.write_bytes(b"w")
    for i in range(2):
        assert run_cli(capsys, local_store, "push", "m", str(source), "--register", "--version",
                       str(Version.from_parts(b"%d" % i)), "--sign-key", str(private)).code == 0
    report = run_cli(capsys, local_store, "--json", "fsck", "--trusted-keys", f"{private}.pub")
    assert report.code == 0, report.out
    assert json.loads(report.out)["counts"]["signatures verified"] == 2


@pytest.mark.parametrize("option", ["--sign-key", "--trusted-keys"])
def test_a_bad_key_file_is_named(local_store: CliStore, capsys: CapSys, tmp_path: Path,
                                 option: str) -> None:
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("hello\n")
    command = (["push", "m", str(bad), "--version", "1"] if option == "--sign-key"
               else ["pull", "m"])
    result = run_cli(capsys, local_store, *command, option, str(bad))
    assert result.code == 3
    assert result.err.startswith("error [invalid_key_file]") and str(bad) in result.err


def test_the_readme_signing_commands_run_as_written(
        local_store: CliStore, capsys: CapSys, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Signing"):]
    block = section[section.index("```\n") + 4:section.index("\n```", section.index("```\n"))]
    lines = block.splitlines()
    assert lines and all(line.startswith("s3opstore ") for line in lines)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"documented weights")
    outputs = []
    for line in lines:
        result = run_cli(capsys, local_store, *line.split()[1:])
        assert result.code == 0, (line, result.err)
        outputs.append(result.out)
    kid = load_signing_key(tmp_path / "signer.key").key_id
    assert (tmp_path / "pulled.bin").read_bytes() == b"documented weights"
    assert any(kid in out and "bytes signed by" in out for out in outputs)  # show
    assert any(f"signed by key {kid} (verified)" in out for out in outputs)  # pull
