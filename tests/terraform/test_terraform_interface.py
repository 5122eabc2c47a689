"""The module's interface: layout, provider pins, variables and their validation, outputs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.conftest import Module

EXPECTED_FILES = {"versions.tf", "variables.tf", "main.tf", "lambda.tf", "iam.tf", "outputs.tf"}

# Every value CloudWatch Logs accepts for a log group's retention (0 = never expire is
# deliberately not offered: logs must not be kept forever by accident).
CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
]  # fmt: skip

REQUIRED_OUTPUTS = {
    "bucket_name",
    "store_url",
    "function_url",
    "function_name",
    "read_only_policy_json",
    "read_write_policy_json",
    "gc_policy_json",
}


def validation_conditions(module: Module, name: str) -> list[str]:
    return [v["condition"] for v in module.variables[name].get("validation", [])]


def validation_regex(module: Module, name: str) -> re.Pattern[str]:
    """The pattern passed to regex() in the variable's validation condition.

    Terraform uses RE2; the patterns here use only syntax that RE2 and Python share.
    """
    (condition,) = validation_conditions(module, name)
    match = re.search(r'regex\("((?:[^"\\]|\\.)*)",\s*var\.' + name + r"\)", condition)
    assert match, f"no regex() in the validation of var.{name}: {condition}"
    # Undo HCL string escaping (\\ -> \, \" -> ").
    pattern = re.sub(r"\\(.)", r"\1", match.group(1))
    return re.compile(pattern)


def contains_list(module: Module, name: str) -> list[Any]:
    """The JSON list a ``contains([...], var.<name>)`` validation allows (strings or numbers)."""
    (condition,) = validation_conditions(module, name)
    match = re.fullmatch(r"\$\{contains\((\[.*\]),\s*var\." + name + r"\)\}", condition)
    assert match, f"var.{name} is not validated with contains([...], var.{name}): {condition}"
    return list(json.loads(match.group(1)))


def test_module_files_exist(module_dir: Path) -> None:
    present = {p.name for p in module_dir.glob("*.tf")}
    assert present >= EXPECTED_FILES, EXPECTED_FILES - present
    assert (module_dir / "README.md").is_file()
    for name in ("main.tf", "outputs.tf", "README.md"):
        assert (module_dir / "examples" / "basic" / name).is_file(), name


def test_versions_pin_terraform_and_aws_provider(module: Module) -> None:
    (block,) = module.files["versions.tf"]["terraform"]
    assert block["required_version"] == ">= 1.5.0"
    (providers,) = block["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert re.fullmatch(r"~> 5\.\d+", providers["aws"]["version"]), providers["aws"]["version"]


def test_module_declares_no_provider_configuration(module: Module) -> None:
    # A reusable module takes its provider from the caller (region, credentials, tags).
    assert module.providers == []


def test_every_variable_has_type_and_description(module: Module) -> None:
    assert module.variables
    for name, variable in module.variables.items():
        assert variable.get("type"), f"var.{name} has no type"
        description = variable.get("description", "")
        assert len(description) >= 20, f"var.{name} has no useful description"


@pytest.mark.parametrize(
    "name",
    [
        "name_prefix",
        "bucket_name",
        "prefix",
        "architecture",
        "memory_size",
        "timeout",
        "reserved_concurrent_executions",
        "tracing_mode",
        "log_retention_days",
        "noncurrent_version_expiration_days",
        "kms_key_arn",
        "lambda_zip_path",
    ],
)
def test_variable_has_validation_with_message(module: Module, name: str) -> None:
    validations = module.variables[name].get("validation", [])
    assert validations, f"var.{name} has no validation block"
    for validation in validations:
        assert "var." + name in validation["condition"]
        assert len(validation["error_message"]) >= 20


def test_required_inputs_have_no_default(module: Module) -> None:
    for name in ("name_prefix", "lambda_zip_path"):
        assert "default" not in module.variables[name], name


def test_safe_defaults(module: Module) -> None:
    variables = module.variables
    assert variables["force_destroy"]["default"] is False
    assert variables["kms_key_arn"]["default"] is None
    assert variables["architecture"]["default"] in ("arm64", "x86_64")
    assert variables["log_retention_days"]["default"] >= 365
    assert variables["prefix"]["default"] == "opstore"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("opstore", True),
        ("ml/registry", True),
        ("teams/ml-platform/opstore_v2.1", True),
        ("/opstore", False),
        ("opstore/", False),
        ("a//b", False),
        ("/", False),
        ("ops*", False),  # would widen the IAM resource pattern
        ("ops?", False),
        ("with space", False),
    ],
)
def test_prefix_validation(module: Module, value: str, ok: bool) -> None:
    (condition,) = validation_conditions(module, "prefix")
    # The empty prefix (registry at the bucket root) is accepted explicitly.
    assert 'var.prefix == ""' in condition
    assert bool(validation_regex(module, "prefix").fullmatch(value)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd", True),
        ("arn:aws:kms:eu-west-1:123456789012:alias/my-key", False),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),
        ("arn:aws:kms:eu-west-1:12345:key/abc", False),
        ("arn:aws:s3:::bucket", False),
    ],
)
def test_kms_key_arn_validation(module: Module, value: str, ok: bool) -> None:
    (condition,) = validation_conditions(module, "kms_key_arn")
    assert condition.startswith("${var.kms_key_arn == null ||"), "null must stay allowed"
    assert bool(validation_regex(module, "kms_key_arn").fullmatch(value)) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("opstore", True),
        ("ml-prod-2", True),
        ("a", False),
        ("Opstore", False),
        ("1opstore", False),
        ("opstore-", False),
        ("x" * 33, False),
        ("ops_store", False),
    ],
)
def test_name_prefix_validation(module: Module, value: str, ok: bool) -> None:
    assert bool(validation_regex(module, "name_prefix").fullmatch(value)) is ok


def test_architecture_validation(module: Module) -> None:
    assert sorted(contains_list(module, "architecture")) == ["arm64", "x86_64"]


def test_tracing_mode_validation(module: Module) -> None:
    assert sorted(contains_list(module, "tracing_mode")) == ["Active", "PassThrough"]


def test_log_retention_validated_against_cloudwatch_values(module: Module) -> None:
    assert contains_list(module, "log_retention_days") == CLOUDWATCH_RETENTION_DAYS
    assert module.variables["log_retention_days"]["default"] in CLOUDWATCH_RETENTION_DAYS


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("memory_size", 128, 10240), ("timeout", 1, 900)],
)
def test_numeric_ranges(module: Module, name: str, low: int, high: int) -> None:
    (condition,) = validation_conditions(module, name)
    assert f"var.{name} >= {low}" in condition
    assert f"var.{name} <= {high}" in condition


def test_noncurrent_expiration_must_be_positive(module: Module) -> None:
    (condition,) = validation_conditions(module, "noncurrent_version_expiration_days")
    assert "var.noncurrent_version_expiration_days >= 1" in condition


def test_outputs_present_with_descriptions(module: Module) -> None:
    assert set(module.outputs) >= REQUIRED_OUTPUTS, REQUIRED_OUTPUTS - set(module.outputs)
    for name, output in module.outputs.items():
        assert len(output.get("description", "")) >= 20, f"output {name} has no description"
        assert output.get("value"), name


def test_output_values(module: Module) -> None:
    outputs = module.outputs
    assert outputs["bucket_name"]["value"] == "${aws_s3_bucket.this.id}"
    assert outputs["store_url"]["value"] == "${local.store_url}"
    assert outputs["function_url"]["value"] == "${aws_lambda_function_url.api.function_url}"
    assert outputs["function_name"]["value"] == "${aws_lambda_function.api.function_name}"
    assert (
        outputs["read_only_policy_json"]["value"]
        == "${data.aws_iam_policy_document.read_only.json}"
    )
    assert (
        outputs["read_write_policy_json"]["value"]
        == "${data.aws_iam_policy_document.read_write.json}"
    )
    assert outputs["gc_policy_json"]["value"] == "${data.aws_iam_policy_document.gc.json}"


def test_store_url_is_s3_bucket_slash_prefix(module: Module, squashed: Callable[[str],
                                             str]) -> None:
    assert squashed(module.local("store_url")) == (
        '${var.prefix==""?"s3://${aws_s3_bucket.this.id}"'
        ':"s3://${aws_s3_bucket.this.id}/${var.prefix}"}'
    )


def test_example_uses_the_module_from_this_directory(example: Module, module: Module) -> None:
    (call,) = example.modules.values()
    assert call["source"] == "../.."
    # Every required input of the module is passed.
    required = {n for n, v in module.variables.items() if "default" not in v}
    assert required <= set(call), required - set(call)
    # Only inputs that exist.
    passed = set(call) - {"source", "providers", "depends_on", "count", "for_each"}
    assert passed <= set(module.variables), passed - set(module.variables)
    assert example.outputs, "the example exposes the module's outputs"


def test_readme_documents_every_input_and_output(module_dir: Path, module: Module) -> None:
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    for name in module.variables:
        assert f"`{name}`" in readme, f"README does not document input {name}"
    for name in module.outputs:
        assert f"`{name}`" in readme, f"README does not document output {name}"
    assert "build_lambda_zip.py" in readme
    assert "terraform validate" in readme
    assert "checkov" in readme
    assert "DeleteObject" in readme
