#!/usr/bin/env python3
"""Build the AWS Lambda deployment zip of the s3opstore HTTP API.

The zip holds the ``s3opstore`` package and its dependencies, installed for the
Lambda python3.12 runtime on the chosen architecture, and is what the Terraform
module in ``terraform/`` deploys (``var.lambda_zip_path``)::

    python scripts/build_lambda_zip.py --arch arm64 --output build/s3opstore-arm64.zip

Dependencies are resolved with ``pip install --platform manylinux2014_<machine>
--only-binary=:all: --python-version 3.12 --implementation cp``, so binary wheels
(pydantic-core, orjson) match Lambda rather than the build machine, and no
compiler is needed. boto3, botocore and s3transfer are left out because the
Lambda runtime provides them (``--include-sdk`` keeps them, for when the
runtime's SDK is older than the one the project requires).

The zip is deterministic: entries sorted, timestamps fixed, permissions
normalised, no ``.pyc`` files and no install-location metadata, so the same
inputs give byte-identical output and Terraform's ``source_code_hash`` only
changes when the code does.

``--dry-run`` prints the pip command and builds nothing (no network needed).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

PYTHON_VERSION = "3.12"

PLATFORMS = {
    "arm64": "manylinux2014_aarch64",
    "x86_64": "manylinux2014_x86_64",
}

# Import names of the AWS SDK distributions that the Lambda python runtime ships.
SDK_PACKAGES = ("boto3", "botocore", "s3transfer")

# 1980-01-01 00:00:00 is the earliest timestamp the zip format can store.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)

DEFAULT_PROJECT = Path(__file__).resolve().parent.parent

# Not copied from the project directory before building: VCS data, virtualenvs,
# caches and earlier build output.
COPY_IGNORE = (
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".*_cache",
    ".hypothesis",
    ".terraform",
    ".s3opstore",
    "*.zip",
)


def pip_command(arch: str, target: Path, project: Path, python: str = sys.executable) -> list[str]:
    """The pip invocation that installs ``project`` and its dependencies for Lambda."""
    if arch not in PLATFORMS:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(PLATFORMS)}")
    return [
        python,
        "-m",
        "pip",
        "install",
        "--platform",
        PLATFORMS[arch],
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--target",
        str(target),
        # Byte-compiled files embed source timestamps, and would be compiled by the
        # build machine's interpreter rather than 3.12: leave them out. Lambda
        # compiles the sources in memory on import (its code directory is read-only).
        "--no-compile",
        "--no-input",
        "--disable-pip-version-check",
        str(project),
    ]


def _is_sdk_entry(name: str, packages: Iterable[str]) -> bool:
    """True for an SDK package directory or its ``<dist>-<version>.dist-info``."""
    for package in packages:
        if name == package:
            return True
        if name.endswith(".dist-info") and name.split("-", 1)[0].lower() == package:
            return True
    return False


def prune(target: Path, *, include_sdk: bool = False) -> list[str]:
    """Remove from ``target`` what must not go into the zip; return the removed names.

    - the AWS SDK (unless ``include_sdk``): the runtime provides it;
    - ``bin/``: console scripts whose shebang points at the build machine's python;
    - ``__pycache__`` directories and ``*.pyc`` files: not reproducible;
    - ``direct_url.json``: records the temporary path the project was built from.
    """
    removed: list[str] = []
    for entry in sorted(target.iterdir()):
        if entry.name == "bin" or (not include_sdk and _is_sdk_entry(entry.name, SDK_PACKAGES)):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
    for path in sorted(target.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir() and path.name == "__pycache__":
            shutil.rmtree(path)
            removed.append(str(path.relative_to(target)))
        elif path.is_file() and (
            path.suffix == ".pyc"
            or (path.name == "direct_url.json" and path.parent.name.endswith(".dist-info"))
        ):
            path.unlink()
            removed.append(str(path.relative_to(target)))
    _drop_missing_record_rows(target)
    return removed


def _drop_missing_record_rows(target: Path) -> None:
    """Rewrite each ``*.dist-info/RECORD`` without the rows of files pruned above.

    RECORD lists every installed file with its hash; rows for the removed
    ``direct_url.json`` (whose hash depends on the temporary build path) and console
    scripts would otherwise make the zip differ from build to build.
    """
    root = target.resolve()
    for record in sorted(target.glob("*.dist-info/RECORD")):
        text = record.read_text(encoding="utf-8")
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
        kept = [row for row in rows if _installed_file(root, row[0])]
        if kept != rows:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(kept)
            record.write_text(out.getvalue(), encoding="utf-8")


def _installed_file(root: Path, record_path: str) -> bool:
    """True when a RECORD path names a file that is still inside the install root."""
    path = (root / record_path).resolve()
    return path.is_relative_to(root) and path.is_file()


def write_deterministic_zip(source: Path, output: Path) -> int:
    """Zip the tree under ``source`` into ``output`` reproducibly; return the entry count.

    Entries are files only (no directory entries), in sorted POSIX-path order, with a
    fixed timestamp and mode 0644 (0755 when the source file is executable by its
    owner). The file is written next to ``output`` and renamed into place, so a failed
    build never leaves a truncated zip where Terraform would pick it up.
    """
    files = sorted(
        (p for p in source.rglob("*") if p.is_file() and not p.is_symlink()),
        key=lambda p: p.relative_to(source).as_posix(),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path in files:
                info = zipfile.ZipInfo(path.relative_to(source).as_posix(), FIXED_DATE_TIME)
                mode = 0o755 if path.stat().st_mode & 0o100 else 0o644
                info.external_attr = (0o100000 | mode) << 16  # regular file + permissions
                info.create_system = 3  # Unix, so the permissions above are honoured
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes(), compresslevel=9)
        tmp.replace(output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(files)


def build(
    arch: str,
    output: Path,
    project: Path,
    *,
    include_sdk: bool = False,
    python: str = sys.executable,
) -> int:
    """Install, prune and zip; return the number of files in the zip."""
    with tempfile.TemporaryDirectory(prefix="s3opstore-lambda-") as tmp:
        # Build from a clean copy: setuptools writes build/ and *.egg-info/ into the
        # tree it builds, and a stale build/lib would leak deleted modules into the zip.
        source = Path(tmp) / "source"
        shutil.copytree(project, source, ignore=shutil.ignore_patterns(*COPY_IGNORE))
        target = Path(tmp) / "package"
        subprocess.run(pip_command(arch, target, source, python), check=True)
        prune(target, include_sdk=include_sdk)
        if not (target / "s3opstore").is_dir():
            raise SystemExit(f"error: pip did not install the s3opstore package from {project}")
        return write_deterministic_zip(target, output)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build the deterministic Lambda deployment zip of the s3opstore API."
    )
    parser.add_argument(
        "--arch",
        required=True,
        choices=sorted(PLATFORMS),
        help="Lambda architecture; must match the Terraform module's `architecture`.",
    )
    parser.add_argument("--output", required=True, type=Path, help="Path of the zip to write.")
    parser.add_argument(
        "--project",
        type=Path,
        default=DEFAULT_PROJECT,
        help="Directory of the s3opstore project to install (default: this repository).",
    )
    parser.add_argument(
        "--include-sdk",
        action="store_true",
        help="Keep boto3/botocore/s3transfer in the zip instead of using the runtime's.",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the pip command and exit without installing or writing anything.",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    project = args.project.resolve()
    output = args.output.resolve()
    if args.dry_run:
        print(f"# copy {project} to <tmpdir>/source, then:")
        print(shlex.join(pip_command(args.arch, Path("<tmpdir>/package"), Path("<tmpdir>/source"))))
        excluded = "nothing" if args.include_sdk else ", ".join(SDK_PACKAGES)
        print(f"# then remove {excluded}, bin/, *.pyc, direct_url.json and zip to {output}")
        return 0
    if not (project / "pyproject.toml").is_file():
        print(f"error: {project} has no pyproject.toml", file=sys.stderr)
        return 2
    count = build(args.arch, output, project, include_sdk=args.include_sdk)
    print(f"wrote {output} ({count} files, {output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
