# The s3opstore HTTP API as a Lambda function behind an IAM-authenticated Function URL.

resource "aws_cloudwatch_log_group" "lambda" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_117:The function only calls the S3 and CloudWatch Logs public endpoints and reaches no private resource; a VPC would add NAT or endpoint cost without narrowing access, which IAM already scopes to the registry prefix.
  #checkov:skip=CKV_AWS_116:A dead-letter queue only receives failed asynchronous invocations; the function is invoked synchronously through its Function URL, where the caller gets the error.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile owned by the deployer; the zip is built reproducibly by scripts/build_lambda_zip.py and its hash is pinned by source_code_hash.
  function_name = local.function_name
  description   = "s3opstore HTTP API for the registry at ${local.store_url}"
  role          = aws_iam_role.lambda.arn

  runtime       = "python3.12"
  handler       = "s3opstore.lambda_handler.handler"
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)

  reserved_concurrent_executions = var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      S3OPSTORE_URL = local.store_url
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The log group must exist with its retention before the first invocation would create
  # it with "never expire"; the role needs its permissions before the first request.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_lambda_function_url" "api" {
  function_name      = aws_lambda_function.api.function_name
  authorization_type = "AWS_IAM"
}

# For clients of the HTTP API: attach to their role (see the invoke_policy_json output).
data "aws_iam_policy_document" "invoke" {
  statement {
    sid       = "InvokeApi"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [aws_lambda_function.api.arn]

    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }
}
