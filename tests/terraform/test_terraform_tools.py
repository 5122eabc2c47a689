"""terraform fmt and checkov over the module, and the discipline of checkov skips.

`terraform validate` needs the AWS provider, which cannot be downloaded here, so
formatting, checkov and the HCL-parsing tests are what guard the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

# Checks skipped inline in the module, each with its reason next to the resource. A new
# skip must be added here on purpose, after review.
REVIEWED_SKIPS = {
    "CKV_AWS_144",  # cross-region replication
    "CKV2_AWS_62",  # S3 event notifications
    "CKV_AWS_117",  # Lambda in a VPC
    "CKV_AWS_116",  # Lambda dead-letter queue
    "CKV_AWS_272",  # Lambda code signing
}

EXAMPLE_KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

SKIP_RE = re.compile(r"checkov:skip=([^\s:]*)(?::(.*))?")


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found:
        return found
    if Path("/usr/local/bin/terraform").is_file():
        return "/usr/local/bin/terraform"
    pytest.fail(
        "terraform is not installed (neither on PATH nor /usr/local/bin/terraform); "
        "it is needed for `terraform fmt -check`"
    )


def checkov_binary(repo_root: Path) -> str:
    path = os.environ.get("S3OPSTORE_CHECKOV") or str(repo_root / ".venv-checkov/bin/checkov")
    if not Path(path).is_file():
        pytest.fail(
            f"checkov not found at {path}: run scripts/install_checkov.sh "
            "(or point S3OPSTORE_CHECKOV at a checkov executable)"
        )
    return path


def run_checkov(checkov: str, directory: Path) -> dict[str, Any]:
    """Run checkov on ``directory`` offline and return its JSON report for terraform."""
    result = subprocess.run(
        [
            checkov,
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--skip-download",  # no network: do not fetch guidelines from the platform
            "--compact",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"},
    )
    assert result.returncode in (0, 1), f"checkov crashed:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout)
    if isinstance(report, list):
        (report,) = [r for r in report if r.get("check_type") == "terraform"]
    assert isinstance(report, dict) and "results" in report, f"checkov scanned nothing: {report}"
    return report


def describe_failures(report: dict[str, Any]) -> str:
    return "\n".join(
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    )


@pytest.mark.slow
def test_terraform_fmt(module_dir: Path) -> None:
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-diff", str(module_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}"


@pytest.mark.slow
def test_checkov_reports_no_failures(repo_root: Path, module_dir: Path) -> None:
    report = run_checkov(checkov_binary(repo_root), module_dir)
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["failed"] == 0, describe_failures(report)
    assert summary["passed"] >= 50, f"checkov ran suspiciously few checks: {summary}"
    skipped = {c["check_id"] for c in report["results"]["skipped_checks"]}
    assert skipped <= REVIEWED_SKIPS, f"unreviewed skips: {skipped - REVIEWED_SKIPS}"


@pytest.mark.slow
def test_checkov_no_failures_with_every_option_on(repo_root: Path, module_dir: Path,
                                                  tmp_path: Path) -> None:
    """The conditional branches (KMS, active tracing, bucket-root prefix...) pass too."""
    shutil.copytree(
        module_dir,
        tmp_path / "module",
        ignore=shutil.ignore_patterns("examples", ".terraform*"),
    )
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "main.tf").write_text(
        textwrap.dedent(
            """\
            module "opstore" {
              source = "../module"

              name_prefix                    = "opstore-full"
              bucket_name                    = "opstore-full-registry"
              prefix                         = ""
              architecture                   = "x86_64"
              lambda_zip_path                = "build/s3opstore-x86_64.zip"
              kms_key_arn                    = "KMS_KEY_ARN"
              tracing_mode                   = "Active"
              reserved_concurrent_executions = 20
              access_log_bucket              = "opstore-access-logs"
              log_retention_days             = 731
            }
            """
        ).replace("KMS_KEY_ARN", EXAMPLE_KMS_KEY_ARN),
        encoding="utf-8",
    )
    report = run_checkov(checkov_binary(repo_root), tmp_path)
    assert report["summary"]["failed"] == 0, describe_failures(report)
    assert report["summary"]["passed"] >= 50, report["summary"]
    resources = {c["resource"] for c in report["results"]["passed_checks"]}
    # The module was evaluated through the call, with the values above.
    assert any(r.startswith("module.opstore.") for r in resources), resources


def test_every_checkov_skip_has_a_reason(module_dir: Path) -> None:
    skips = []
    for path in sorted(module_dir.rglob("*.tf")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "checkov:skip" not in line:
                continue
            where = f"{path.relative_to(module_dir)}:{lineno}"
            match = SKIP_RE.search(line)
            assert match, f"{where}: malformed skip: {line.strip()}"
            check_id, reason = match.group(1), (match.group(2) or "").strip()
            assert re.fullmatch(r"CKV2?_AWS_\d+", check_id), f"{where}: bad check id {check_id}"
            assert len(reason) >= 20, f"{where}: skip of {check_id} needs a reason"
            assert line.lstrip().startswith("#checkov:skip="), f"{where}: skip must be a comment"
            skips.append(check_id)
    assert len(skips) == len(set(skips)), f"a check is skipped twice: {skips}"
    assert set(skips) == REVIEWED_SKIPS
