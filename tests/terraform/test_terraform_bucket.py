"""The registry bucket: versioned, encrypted, private, TLS-only, with lifecycle rules."""

from __future__ import annotations

from collections.abc import Callable

from tests.terraform.conftest import Module

BUCKET_REF = "${aws_s3_bucket.this.id}"


def test_bucket_exists_with_force_destroy_off_by_default(module: Module) -> None:
    bucket = module.resource("aws_s3_bucket", "this")
    assert bucket["force_destroy"] == "${var.force_destroy}"
    assert module.variables["force_destroy"]["type"] == "bool"
    assert module.variables["force_destroy"]["default"] is False
    assert bucket["tags"] == "${var.tags}"


def test_bucket_has_no_acl_and_no_inline_legacy_settings(module: Module) -> None:
    # Since AWS provider v4 these settings live in their own resources; inline ones
    # would fight with those resources.
    bucket = module.resource("aws_s3_bucket", "this")
    for legacy in (
        "acl",
        "versioning",
        "server_side_encryption_configuration",
        "lifecycle_rule",
        "logging",
        "policy",
    ):
        assert legacy not in bucket, legacy
    assert "aws_s3_bucket_acl" not in module.resources


def test_versioning_enabled(module: Module) -> None:
    versioning = module.resource("aws_s3_bucket_versioning", "this")
    assert versioning["bucket"] == BUCKET_REF
    (config,) = versioning["versioning_configuration"]
    assert config["status"] == "Enabled"


def test_encryption_sse_s3_by_default_and_kms_when_key_given(
        module: Module, squashed: Callable[[str], str]) -> None:
    sse = module.resource("aws_s3_bucket_server_side_encryption_configuration", "this")
    assert sse["bucket"] == BUCKET_REF
    (rule,) = sse["rule"]
    (default,) = rule["apply_server_side_encryption_by_default"]

    # local.use_kms is exactly "a key ARN was given".
    assert squashed(module.local("use_kms")) == "${var.kms_key_arn!=null}"
    # With a key: aws:kms with that key and an S3 Bucket Key; without: AES256 (SSE-S3).
    assert squashed(default["sse_algorithm"]) == '${local.use_kms?"aws:kms":"AES256"}'
    assert squashed(default["kms_master_key_id"]) == "${local.use_kms?var.kms_key_arn:null}"
    assert rule["bucket_key_enabled"] == "${local.use_kms}"


def test_public_access_block_all_true(module: Module) -> None:
    pab = module.resource("aws_s3_bucket_public_access_block", "this")
    assert pab["bucket"] == BUCKET_REF
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert pab[flag] is True, flag


def test_ownership_controls_bucket_owner_enforced(module: Module) -> None:
    ownership = module.resource("aws_s3_bucket_ownership_controls", "this")
    assert ownership["bucket"] == BUCKET_REF
    (rule,) = ownership["rule"]
    assert rule["object_ownership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_insecure_transport(module: Module) -> None:
    policy = module.resource("aws_s3_bucket_policy", "this")
    assert policy["bucket"] == BUCKET_REF
    assert policy["policy"] == "${data.aws_iam_policy_document.bucket.json}"

    statements = module.policy_statements("bucket")
    tls_denials = [
        s
        for s in statements
        if s.effect == "Deny"
        and any(
            c["test"] == "Bool"
            and c["variable"] == "aws:SecureTransport"
            and c["values"] == ["false"]
            and for_each is None
            for c, for_each in s.conditions()
        )
    ]
    assert len(tls_denials) == 1
    (deny,) = tls_denials
    assert deny.for_each is None, "the TLS denial must not be conditional"
    assert deny.actions == ["s3:*"]
    # Both the bucket and every object in it.
    assert sorted(deny.resources) == sorted(
        ["${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"]
    )
    (principal,) = deny.body["principals"]
    assert principal == {"type": "*", "identifiers": ["*"]}


def test_bucket_policy_only_denies(module: Module) -> None:
    # The bucket policy grants nothing: access comes from IAM policies only.
    for statement in module.policy_statements("bucket"):
        assert statement.effect == "Deny", statement.body


def test_lifecycle_aborts_multipart_and_expires_noncurrent_versions(module: Module) -> None:
    lifecycle = module.resource("aws_s3_bucket_lifecycle_configuration", "this")
    assert lifecycle["bucket"] == BUCKET_REF
    rules = lifecycle["rule"]
    assert all(r["status"] == "Enabled" for r in rules)

    aborts = [r for r in rules if "abort_incomplete_multipart_upload" in r]
    assert len(aborts) == 1
    (abort,) = aborts[0]["abort_incomplete_multipart_upload"]
    assert 1 <= abort["days_after_initiation"] <= 7

    expiries = [r for r in rules if "noncurrent_version_expiration" in r]
    assert len(expiries) == 1
    (expiry,) = expiries[0]["noncurrent_version_expiration"]
    assert expiry["noncurrent_days"] == "${var.noncurrent_version_expiration_days}"

    # Rules apply to the whole bucket (an empty filter), so nothing escapes them.
    for rule in rules:
        assert rule["filter"] == [{}], rule

    # Current versions are never expired by age: the registry decides what is garbage.
    for rule in rules:
        for expiration in rule.get("expiration", []):
            assert set(expiration) == {"expired_object_delete_marker"}, expiration

    # Noncurrent-version rules need versioning to exist first.
    assert "${aws_s3_bucket_versioning.this}" in lifecycle["depends_on"]


def test_access_logging_is_optional(module: Module) -> None:
    logging = module.resource("aws_s3_bucket_logging", "this")
    assert logging["count"] == "${var.access_log_bucket == null ? 0 : 1}"
    assert logging["target_bucket"] == "${var.access_log_bucket}"
    assert module.variables["access_log_bucket"]["default"] is None
