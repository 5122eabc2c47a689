# Execution role of the API Lambda, and policy documents for other principals
# (workers, CI jobs, operators) that use the s3opstore library directly.
#
# Least privilege: the Lambda may read and write objects under the registry prefix and
# list the registry bucket (which this module creates for the registry alone; see
# RegistryList for why the listing grant has no prefix condition). It deletes only the
# staging keys it is done with (RegistryStagingDelete): garbage collection is an
# operator task with its own policy (gc_policy_json).

data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.function_name}-role"
  description        = "Execution role of the s3opstore API Lambda ${local.function_name}."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json

  tags = var.tags
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "RegistryObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.object_arn_pattern]
  }

  # Deletes of staging keys only (see local.intents_arn_pattern): a group commit's
  # committer deletes the intents it answered, so the next committers' LIST of intents
  # is not filled with answered ones. Registry data is deleted by gc alone.
  statement {
    sid       = "RegistryStagingDelete"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = [local.intents_arn_pattern, local.uploads_arn_pattern, local.probe_arn_pattern]
  }

  # s3:ListBucket on the bucket, with no s3:prefix condition. S3 answers 404 for a missing
  # key only to a caller allowed s3:ListBucket on the bucket for that GetObject/HeadObject
  # request, which carries no s3:prefix: a prefix-conditioned grant would turn every miss
  # (first registration of an op, latest_version of an unknown op, pipeline_exists) into a
  # 403. The bucket is created by this module for the registry alone, so the grant reveals
  # only registry key names (as long as nothing else is stored in it).
  statement {
    sid       = "RegistryList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.this.arn]
  }

  statement {
    sid       = "OwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [var.kms_key_arn] : []
    content {
      sid       = "RegistryKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    # X-Ray does not support resource-level permissions: "*" is the only valid resource.
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "XRayWrite"
      effect    = "Allow"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "s3opstore-registry-access"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

# ---------------------------------------------------------------------------
# Policy documents for principals outside this module. Attach them to the roles of
# workers that use the library directly (they are outputs, not resources, so the
# caller decides where they go).
# ---------------------------------------------------------------------------

# Read-only: fetch manifests and blobs, list the registry bucket.
data "aws_iam_policy_document" "read_only" {
  statement {
    sid       = "RegistryRead"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = [local.object_arn_pattern]
  }

  # Unconditional, like the Lambda's RegistryList: without it a missing key reads as 403.
  statement {
    sid       = "RegistryList"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.this.arn]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [var.kms_key_arn] : []
    content {
      sid       = "RegistryKeyDecrypt"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

# Read-write: read-only plus registering ops (conditional PutObject), and deleting the
# staging keys a writer is done with.
data "aws_iam_policy_document" "read_write" {
  source_policy_documents = [data.aws_iam_policy_document.read_only.json]

  statement {
    sid       = "RegistryWrite"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [local.object_arn_pattern]
  }

  # Deletes of staging keys only (see local.intents_arn_pattern): a group commit's
  # committer deletes the intents it answered, so the next committers' LIST of intents
  # is not filled with answered ones. Registry data is deleted by gc alone.
  statement {
    sid       = "RegistryStagingDelete"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = [local.intents_arn_pattern, local.uploads_arn_pattern, local.probe_arn_pattern]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [var.kms_key_arn] : []
    content {
      sid       = "RegistryKeyEncrypt"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

# Garbage collection / admin: read-write plus DeleteObject. On this versioned bucket a
# delete only adds a delete marker; the lifecycle rule removes the old version after
# var.noncurrent_version_expiration_days, so a mistaken GC can be undone until then.
data "aws_iam_policy_document" "gc" {
  source_policy_documents = [data.aws_iam_policy_document.read_write.json]

  statement {
    sid       = "RegistryDelete"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = [local.object_arn_pattern]
  }
}
