"""``s3opstore completion``: the bash script is sourced in a real bash and asked for completions.

zsh and fish are not installed on the test machines; their scripts are checked to carry
the same table as the bash one, generated from the same parser walk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from s3opstore.cli.completion import command_table
from s3opstore.cli.main import build_parser

SCRIPT = Path(sys.executable).parent / "s3opstore"  # the console script of this venv


def complete(*words: str) -> list[str]:
    """What bash offers for the last word of ``s3opstore WORDS...`` (COMP_WORDS/COMP_CWORD)."""
    line = " ".join(f"'{word}'" for word in ("s3opstore", *words))
    program = (f'source <("{SCRIPT}" completion bash); COMP_WORDS=({line}); '
               'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _s3opstore; '
               'printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60,
                          check=True)
    return [line for line in done.stdout.splitlines() if line]


def test_subcommands_complete() -> None:
    assert complete("al") == ["alias"]
    assert complete("pu") == ["push", "pull"]
    assert complete("alias", "") == ["set", "delete", "get", "list", "history"]
    assert complete("tag", "") == ["set", "list", "history"]
    assert complete("completion", "") == ["bash", "zsh", "fish"]
    assert "fsck" in complete("")


def test_options_complete_per_command() -> None:
    assert complete("alias", "set", "--ex") == ["--expect", "--expect-none"]
    assert complete("pull", "pca", "--allow") == ["--allow-archived"]
    assert complete("gc", "--d") == ["--dry-run"]
    assert complete("--js") == ["--json"]


def test_option_values_and_global_options_are_skipped() -> None:
    # --store's value is not taken for a command name, and is left to file completion.
    assert complete("--store", "/tmp/x", "pu") == ["push", "pull"]
    assert complete("--store", "") == []
    assert complete("pull", "--version", "") == []
    assert complete("show", "pca", "--st") == ["--store"]


def test_zsh_and_fish_carry_the_same_table() -> None:
    table = command_table(build_parser())
    assert table["alias set"].options[-3:] == ["--expect", "--expect-none", "--idempotency-key"]
    for shell in ("zsh", "fish"):
        done = subprocess.run([str(SCRIPT), "completion", shell], capture_output=True,
                              text=True, timeout=60, check=True)
        for path, node in table.items():
            assert f"words:{path}" in done.stdout
            assert " ".join(node.options) in done.stdout
    zsh = subprocess.run([str(SCRIPT), "completion", "zsh"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "bashcompinit" in zsh and "complete -o default -F _s3opstore s3opstore" in zsh


def test_completion_needs_no_store(tmp_path: Path) -> None:
    """Printed before any store is opened: a bad --store or S3 URL does not matter."""
    done = subprocess.run([str(SCRIPT), "--store", "s3://no-such-bucket/x", "completion",
                           "bash"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0 and "_s3opstore()" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_documented_commands_run_as_written(tmp_path: Path) -> None:
    """docs/cli.md's and README's completion commands, run in bash as written."""
    root = Path(__file__).parents[2]
    lines = {line.strip() for doc in ("docs/cli.md", "README.md")
             for line in (root / doc).read_text().splitlines()
             if line.strip().startswith(("source <(s3opstore completion",
                                         "s3opstore completion fish >"))}
    assert lines == {"source <(s3opstore completion bash)",
                     "s3opstore completion fish > ~/.config/fish/completions/s3opstore.fish"}
    env = {"PATH": f"{SCRIPT.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    (tmp_path / ".config" / "fish" / "completions").mkdir(parents=True)
    for line in sorted(lines):
        done = subprocess.run(["bash", "-c", f"{line} && complete -p s3opstore || true"],
                              capture_output=True, text=True, timeout=60, env=env, check=True)
        if "bash" in line:
            assert done.stdout.strip() == "complete -o default -F _s3opstore s3opstore"
    fish = tmp_path / ".config" / "fish" / "completions" / "s3opstore.fish"
    assert "function __s3opstore_complete" in fish.read_text()
