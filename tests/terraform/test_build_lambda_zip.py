"""scripts/build_lambda_zip.py: the pip command, the pruning and the deterministic zip.

The real build downloads wheels, so it is not run here; --dry-run and the pure
functions are.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "build_lambda_zip.py"


@pytest.fixture(scope="module")
def builder() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("build_lambda_zip", SCRIPT)
    assert spec
    assert spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["build_lambda_zip"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("build_lambda_zip", None)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("arch", "platform"),
    [("arm64", "manylinux2014_aarch64"), ("x86_64", "manylinux2014_x86_64")],
)
def test_dry_run_prints_the_pip_command(tmp_path: Path, arch: str, platform: str) -> None:
    output = tmp_path / "out.zip"
    result = run_script("--arch", arch, "--output", str(output), "--dry-run")
    assert result.returncode == 0, result.stderr
    pip_lines = [line for line in result.stdout.splitlines() if " -m pip install " in line]
    assert len(pip_lines) == 1, result.stdout
    words = pip_lines[0].split()
    assert words[words.index("--platform") + 1] == platform
    assert "--only-binary=:all:" in words
    assert words[words.index("--python-version") + 1] == "3.12"
    assert words[words.index("--implementation") + 1] == "cp"
    assert "--target" in words
    assert "--no-compile" in words
    assert "boto3, botocore, s3transfer" in result.stdout
    assert not output.exists(), "--dry-run must not write the zip"


def test_pip_command_installs_the_project(builder: ModuleType, tmp_path: Path) -> None:
    cmd = builder.pip_command("arm64", tmp_path / "t", REPO_ROOT, python="python3.12")
    assert cmd[:4] == ["python3.12", "-m", "pip", "install"]
    assert cmd[-1] == str(REPO_ROOT)
    assert cmd[cmd.index("--target") + 1] == str(tmp_path / "t")


def test_unknown_architecture_is_rejected(tmp_path: Path, builder: ModuleType) -> None:
    result = run_script("--arch", "riscv64", "--output", str(tmp_path / "x.zip"), "--dry-run")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    with pytest.raises(ValueError, match="architecture"):
        builder.pip_command("ppc64le", tmp_path, tmp_path)


def make_install_tree(root: Path) -> None:
    """A small imitation of a pip --target directory."""
    files = {
        "s3opstore/__init__.py": "VERSION = 1\n",
        "s3opstore/lambda_handler.py": "def handler(event, context):\n    return {}\n",
        "s3opstore/__pycache__/__init__.cpython-311.pyc": "junk",
        "s3opstore-0.1.0.dist-info/METADATA": "Name: s3opstore\n",
        "s3opstore-0.1.0.dist-info/direct_url.json": '{"url": "file:///tmp/xyz"}',
        "s3opstore-0.1.0.dist-info/RECORD": (
            "../../bin/s3opstore,sha256=abc,10\n"
            "s3opstore/__init__.py,sha256=def,12\n"
            "s3opstore-0.1.0.dist-info/direct_url.json,sha256=ghi,30\n"
            "s3opstore-0.1.0.dist-info/RECORD,,\n"
        ),
        "orjson/__init__.py": "",
        "orjson/orjson.so": "binary",
        "boto3/__init__.py": "",
        "boto3-1.35.0.dist-info/METADATA": "",
        "botocore/__init__.py": "",
        "botocore-1.35.0.dist-info/METADATA": "",
        "s3transfer/__init__.py": "",
        "s3transfer-0.10.0.dist-info/METADATA": "",
        "bin/s3opstore": "#!/tmp/python\n",
        "six.py": "",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    (root / "orjson/orjson.so").chmod(0o755)


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_prune_removes_sdk_scripts_bytecode_and_build_paths(builder: ModuleType,
                                                            tmp_path: Path) -> None:
    make_install_tree(tmp_path)
    builder.prune(tmp_path)
    assert tree(tmp_path) == {
        "s3opstore/__init__.py",
        "s3opstore/lambda_handler.py",
        "s3opstore-0.1.0.dist-info/METADATA",
        "s3opstore-0.1.0.dist-info/RECORD",
        "orjson/__init__.py",
        "orjson/orjson.so",
        "six.py",
    }
    # RECORD no longer lists what was removed (it would name the temporary build path).
    record = (tmp_path / "s3opstore-0.1.0.dist-info/RECORD").read_text(encoding="utf-8")
    assert record == "s3opstore/__init__.py,sha256=def,12\ns3opstore-0.1.0.dist-info/RECORD,,\n"


def test_prune_can_keep_the_sdk(builder: ModuleType, tmp_path: Path) -> None:
    make_install_tree(tmp_path)
    builder.prune(tmp_path, include_sdk=True)
    files = tree(tmp_path)
    assert "boto3/__init__.py" in files
    assert "botocore-1.35.0.dist-info/METADATA" in files
    assert "bin/s3opstore" not in files


def test_zip_is_deterministic(builder: ModuleType, tmp_path: Path) -> None:
    make_install_tree(tmp_path / "a")
    make_install_tree(tmp_path / "b")
    # Different mtimes and creation order must not matter.
    for path in (tmp_path / "b").rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    count_a = builder.write_deterministic_zip(tmp_path / "a", tmp_path / "a.zip")
    count_b = builder.write_deterministic_zip(tmp_path / "b", tmp_path / "b.zip")
    assert count_a == count_b == len(tree(tmp_path / "a"))
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_zip_entries_sorted_with_fixed_metadata(builder: ModuleType, tmp_path: Path) -> None:
    make_install_tree(tmp_path / "src")
    builder.prune(tmp_path / "src")
    builder.write_deterministic_zip(tmp_path / "src", tmp_path / "out" / "lambda.zip")
    with zipfile.ZipFile(tmp_path / "out" / "lambda.zip") as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert "s3opstore/lambda_handler.py" in names
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
        assert modes["orjson/orjson.so"] == 0o755
        assert modes["s3opstore/__init__.py"] == 0o644
        assert zf.read("s3opstore/__init__.py") == b"VERSION = 1\n"
        assert zf.testzip() is None
    # Nothing but the zip is left in the output directory.
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["lambda.zip"]
