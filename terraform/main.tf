# The registry bucket. Everything s3opstore knows lives here: JSON manifests and
# content-addressed blobs under var.prefix, written with S3 conditional writes.

data "aws_partition" "current" {}

locals {
  function_name = "${var.name_prefix}-api"
  log_group     = "/aws/lambda/${local.function_name}"
  use_kms       = var.kms_key_arn != null

  # "s3://bucket/prefix", or "s3://bucket" when the registry sits at the bucket root.
  store_url = var.prefix == "" ? "s3://${aws_s3_bucket.this.id}" : "s3://${aws_s3_bucket.this.id}/${var.prefix}"

  # IAM resource pattern of the object actions: scoped to the registry prefix.
  object_arn_pattern = var.prefix == "" ? "${aws_s3_bucket.this.arn}/*" : "${aws_s3_bucket.this.arn}/${var.prefix}/*"

  # IAM resource patterns of the keys a writer stages and deletes itself once done with
  # them: a group commit's intents (design.md, D18), presigned uploads (D11) and the
  # conditional-write probe's scratch objects. None of them is registry data.
  registry_arn        = var.prefix == "" ? aws_s3_bucket.this.arn : "${aws_s3_bucket.this.arn}/${var.prefix}"
  intents_arn_pattern = "${local.registry_arn}/ops/*/intents/*"
  uploads_arn_pattern = "${local.registry_arn}/ops/*/uploads/*"
  probe_arn_pattern   = "${local.registry_arn}/_s3opstore/probe/*"
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice of the root module (it needs a second bucket in another region); the registry itself only needs one bucket.
  #checkov:skip=CKV2_AWS_62:Nothing consumes S3 event notifications: s3opstore finds changes by listing manifests, so there is no notification target to configure.
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name_prefix}-" : null
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.use_kms ? "aws:kms" : "AES256"
      kms_master_key_id = local.use_kms ? var.kms_key_arn : null
    }
    bucket_key_enabled = local.use_kms
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    # Disables ACLs: access is decided by IAM and the bucket policy alone.
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOutdatedTls"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # A policy put before the public access block exists can be rejected as public.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    # Large blobs are uploaded in parts; a crashed writer leaves parts that are billed
    # but invisible to listings.
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    # Overwritten manifests and garbage-collected blobs stay recoverable for this long.
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Delete markers whose versions have all expired are clutter in ListObjectVersions.
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Lifecycle rules on noncurrent versions need versioning to be in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = var.access_log_prefix
}
