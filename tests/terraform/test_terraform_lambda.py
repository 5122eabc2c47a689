"""The API Lambda, its log group and its Function URL."""

from __future__ import annotations

import re
from pathlib import Path

from tests.terraform.conftest import Module


def test_function_runtime_handler_architecture(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    assert fn["runtime"] == "python3.12"
    assert fn["handler"] == "s3opstore.lambda_handler.handler"
    assert fn["architectures"] == ["${var.architecture}"]
    assert fn["function_name"] == "${local.function_name}"
    assert fn["role"] == "${aws_iam_role.lambda.arn}"
    assert fn["memory_size"] == "${var.memory_size}"
    assert fn["timeout"] == "${var.timeout}"


def test_function_code_comes_from_the_zip(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    assert fn["filename"] == "${var.lambda_zip_path}"
    # A new zip must produce a new deployment.
    assert fn["source_code_hash"] == "${filebase64sha256(var.lambda_zip_path)}"


def test_function_environment_points_at_the_store(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    (environment,) = fn["environment"]
    assert environment["variables"] == {"S3OPSTORE_URL": "${local.store_url}"}
    store_url = module.local("store_url")
    assert "s3://${aws_s3_bucket.this.id}/${var.prefix}" in store_url


def test_reserved_concurrency_and_tracing_are_optional(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrent_executions}"
    # -1 is the provider's "no reservation".
    assert module.variables["reserved_concurrent_executions"]["default"] == -1
    (tracing,) = fn["tracing_config"]
    assert tracing["mode"] == "${var.tracing_mode}"


def test_function_uses_kms_key_when_given(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    assert fn["kms_key_arn"] == "${var.kms_key_arn}"


def test_function_waits_for_log_group_and_permissions(module: Module) -> None:
    fn = module.resource("aws_lambda_function", "api")
    assert "${aws_cloudwatch_log_group.lambda}" in fn["depends_on"]
    assert "${aws_iam_role_policy.lambda}" in fn["depends_on"]


def test_log_group_is_the_functions_with_retention(module: Module) -> None:
    log_group = module.resource("aws_cloudwatch_log_group", "lambda")
    assert log_group["name"] == "${local.log_group}"
    assert module.local("log_group") == "/aws/lambda/${local.function_name}"
    assert log_group["retention_in_days"] == "${var.log_retention_days}"
    assert log_group["kms_key_id"] == "${var.kms_key_arn}"


def test_function_url_requires_iam_auth(module: Module) -> None:
    urls = module.resources["aws_lambda_function_url"]
    assert set(urls) == {"api"}
    url = urls["api"]
    assert url["function_name"] == "${aws_lambda_function.api.function_name}"
    assert url["authorization_type"] == "AWS_IAM"


def test_no_public_invocation_anywhere(module_dir: Path, module: Module) -> None:
    # No unauthenticated URL, and no resource policy opening the function to everyone.
    for path in module_dir.rglob("*.tf"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'authorization_type\s*=\s*"NONE"', text), path
    for permission in module.resources.get("aws_lambda_permission", {}).values():
        assert permission.get("principal") != "*", permission


def test_invoke_policy_is_scoped_to_the_function(module: Module) -> None:
    (statement,) = module.policy_statements("invoke")
    assert statement.actions == ["lambda:InvokeFunctionUrl"]
    assert statement.resources == ["${aws_lambda_function.api.arn}"]
    ((condition, _),) = statement.conditions()
    assert condition["variable"] == "lambda:FunctionUrlAuthType"
    assert condition["values"] == ["AWS_IAM"]
