"""``s3opstore demo``: the README's first command, on the embedded default store."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from s3opstore.cli.main import main
from s3opstore.registry.opstore import OpStore


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "S3OPSTORE_URL"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "s3opstore.cli", *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=120)


def test_demo_runs_twice_on_the_default_store_in_a_subprocess(tmp_path: Path) -> None:
    first = _cli("demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / ".s3opstore" / "pipelines" / "iris_classification.json").is_file()
    out = first.stdout
    for number in ("1.0.0", "1.1.0", "1.1.1", "2.0.0"):
        assert f"pca         {number}" in out
    assert "7 new versions, 0 reused" in out
    assert "sha256:" in out
    assert "loaded back: identical" in out
    assert "pca 2.0.0 -> classifier" in out
    assert "classifier@production -> 1.1.0" in out

    second = _cli("demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 new versions, 7 reused" in second.stdout
    assert "reused (already registered)" in second.stdout
    # Idempotent: nothing was duplicated by the second run.
    store = OpStore.from_url((tmp_path / ".s3opstore").as_uri())
    assert [r.number_text for r in store.get_versions("pca")] == [
        "1.0.0", "1.1.0", "1.1.1", "2.0.0"]
    assert len(store.alias_history("classifier", "production")) == 1


def test_demo_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(tmp_path / "s"), "--json", "demo"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["versions"]["pca"] == ["1.0.0", "1.1.0", "1.1.1", "2.0.0"]
    assert summary["resolution"]["ok"] is True
    assert [op["op"] for op in summary["resolution"]["ops"]] == ["classifier", "pca", "scaler"]


def test_demo_works_without_rich(tmp_path: Path) -> None:
    # A stub package named "rich" that fails to import stands in for "not installed".
    stub = tmp_path / "norich" / "rich"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('rich is not installed')\n")
    result = _cli("demo", cwd=tmp_path,
                  env={"PYTHONPATH": f"{tmp_path / 'norich'}{os.pathsep}{Path.cwd()}"})
    assert result.returncode == 0, result.stderr
    assert "7 new versions" in result.stdout
    table = _cli("versions", "pca", cwd=tmp_path,
                 env={"PYTHONPATH": f"{tmp_path / 'norich'}{os.pathsep}{Path.cwd()}"})
    assert table.returncode == 0, table.stderr
    assert "seq  number" in table.stdout
    assert "┃" not in table.stdout


def test_demo_counts_the_links_it_prints_and_its_hint_runs(tmp_path: Path) -> None:
    env = {"PATH": os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                   if Path(p).resolve() != Path(sys.executable).parent.resolve())}
    result = _cli("demo", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    step = next(i for i, line in enumerate(lines) if line.startswith("== 4. "))
    section = lines[step + 1:next(i for i, line in enumerate(lines) if line.startswith("== 5. "))]
    assert [line.strip() for line in section if line.startswith("   ")
                                        and "store requests" not in line] == [
        "scaler 1.0.0 -> pca", "pca 2.0.0 -> classifier",
        "classifier 1.1.0 ends the pipeline (registered, no link)"]
    assert any("2 validated links" in line for line in lines)
    hint = next(line for line in lines if line.startswith("   try: "))
    command = shlex.split(hint.removeprefix("   try: "))
    assert command[0] != "s3opstore"  # the venv's bin is not on PATH: the -m form
    ran = subprocess.run(command, cwd=tmp_path, env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "2.0.0" in ran.stdout
