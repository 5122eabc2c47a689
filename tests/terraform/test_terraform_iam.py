"""IAM: the Lambda role is least-privilege: object actions scoped to the registry prefix,
ListBucket on the module's own bucket (so that a missing key reads as 404, not 403)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

import pytest

from s3opstore import Version
from s3opstore.models.keys import (
    FORMAT_KEY,
    alias_head_key,
    blob_key,
    intent_key,
    link_key,
    op_head_key,
    probe_key,
    upload_key,
    version_entry_key,
    version_event_key,
)
from s3opstore.models.manifests import VersionIntent, VersionRecord, utc_now_ms
from s3opstore.registry.commit import new_token
from tests.terraform.conftest import Module, Statement

OBJECTS = "${local.object_arn_pattern}"
STAGING = ["${local.intents_arn_pattern}", "${local.uploads_arn_pattern}",
           "${local.probe_arn_pattern}"]
BUCKET_ARN = "${aws_s3_bucket.this.arn}"

LAMBDA_ALLOWED_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}

ALL_DOCUMENTS = ("lambda", "read_only", "read_write", "gc", "invoke", "lambda_assume_role")


def actions_of(statements: list[Statement]) -> set[str]:
    return {a for s in statements for a in s.actions}


def s3_statements(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if any(a.startswith("s3:") for a in s.actions)]


def test_role_is_assumable_by_lambda_only(module: Module) -> None:
    role = module.resource("aws_iam_role", "lambda")
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.lambda_assume_role.json}"
    (statement,) = module.policy_statements("lambda_assume_role")
    assert statement.effect == "Allow"
    assert statement.actions == ["sts:AssumeRole"]
    (principal,) = statement.body["principals"]
    assert principal == {"type": "Service", "identifiers": ["lambda.amazonaws.com"]}


def test_role_has_only_the_inline_policy(module: Module) -> None:
    # No managed policies (AWSLambdaBasicExecutionRole allows logs on "*").
    assert "aws_iam_role_policy_attachment" not in module.resources
    assert "aws_iam_policy_attachment" not in module.resources
    role = module.resource("aws_iam_role", "lambda")
    assert "managed_policy_arns" not in role
    policy = module.resource("aws_iam_role_policy", "lambda")
    assert policy["role"] == "${aws_iam_role.lambda.id}"
    assert policy["policy"] == "${data.aws_iam_policy_document.lambda.json}"


def test_lambda_actions_are_exactly_the_allowed_set(module: Module) -> None:
    statements = module.policy_statements("lambda")
    assert all(s.effect == "Allow" for s in statements)
    assert actions_of(statements) == LAMBDA_ALLOWED_ACTIONS


@pytest.mark.parametrize("document", ["lambda", "read_write"])
def test_writers_delete_only_staging_keys(module: Module, document: str) -> None:
    """The Lambda and writers delete what they staged (intents, uploads, probes), never
    registry data: that is gc's policy alone."""
    deleting = [s for s in module.policy_statements(document)
                if any("Delete" in a for a in s.actions)]
    assert [(s.actions, s.resources) for s in deleting] == [(["s3:DeleteObject"], STAGING)]
    assert deleting[0].for_each is None


def test_staging_patterns_match_staging_keys_and_no_registry_data(
        module: Module, squashed: Callable[[str], str]) -> None:
    """The patterns, as IAM reads them (``*`` spans "/"), against the keys the library
    builds: every staging key matches one, and no key of registry data matches any."""
    assert squashed(module.local("registry_arn")) == (
        '${var.prefix==""?aws_s3_bucket.this.arn:"${aws_s3_bucket.this.arn}/${var.prefix}"}')
    globs = []
    for pattern in STAGING:
        value = module.local(pattern[len("${local."):-1])
        assert value.startswith("${local.registry_arn}/"), value
        globs.append(value[len("${local.registry_arn}/"):])
    intent = VersionIntent(op_name="op", version=Version.from_parts(b"a"), actor="ci",
                           host="h", pid=1, idempotency=None, created_at=utc_now_ms(),
                           token=new_token())
    staging = [intent_key(intent), upload_key("op", "ab" * 16), probe_key("ab" * 16)]
    for key in staging:
        assert any(fnmatch.fnmatchcase(key, glob) for glob in globs), key
    record = VersionRecord(op_name="intents", version=Version.from_parts(b"a"),
                           number=(1, 0, 0), seq=0, registered_at=utc_now_ms(),
                           registered_host="h", registered_pid=1)
    data = [op_head_key("intents"), version_entry_key(record), version_event_key("op", 0),
            blob_key("uploads", "ab" * 32), link_key("intents", "uploads", record.version),
            alias_head_key("intents", "prod"), FORMAT_KEY]
    for key in data:
        assert not any(fnmatch.fnmatchcase(key, glob) for glob in globs), key


@pytest.mark.parametrize("document", ALL_DOCUMENTS)
def test_no_wildcard_actions_in_grants(module: Module, document: str) -> None:
    for statement in module.policy_statements(document):
        if statement.effect != "Allow":
            continue
        for action in statement.actions:
            assert "*" not in action, (document, action)
            assert "?" not in action, (document, action)
        assert "not_actions" not in statement.body
        assert "not_resources" not in statement.body


@pytest.mark.parametrize("document", ALL_DOCUMENTS)
def test_no_s3_grant_on_every_resource(module: Module, document: str) -> None:
    for statement in s3_statements(module.policy_statements(document)):
        assert "*" not in statement.resources, (document, statement.body)


def test_star_resource_only_for_xray(module: Module) -> None:
    for statement in module.policy_statements("lambda"):
        if "*" in statement.resources:
            assert all(a.startswith("xray:") for a in statement.actions), statement.body
            # ... and only when tracing is active.
            assert statement.for_each == '${var.tracing_mode == "Active" ? [1] : []}'


def test_object_actions_scoped_to_prefix(module: Module, squashed: Callable[[str], str]) -> None:
    # The pattern is bucket/<prefix>/*, or bucket/* when the registry is the whole bucket.
    assert squashed(module.local("object_arn_pattern")) == (
        '${var.prefix==""?"${aws_s3_bucket.this.arn}/*"'
        ':"${aws_s3_bucket.this.arn}/${var.prefix}/*"}'
    )
    for name in ("lambda", "read_only", "read_write", "gc"):
        for statement in s3_statements(module.policy_statements(name)):
            object_actions = [a for a in statement.actions if a != "s3:ListBucket"]
            if statement.resources == STAGING:  # test_writers_delete_only_staging_keys
                assert name in ("lambda", "read_write")
            elif object_actions:
                assert statement.resources == [OBJECTS], (name, statement.body)
                assert "s3:ListBucket" not in statement.actions


def list_statement(module: Module, name: str) -> Statement:
    (statement,) = [s for s in module.policy_statements(name) if "s3:ListBucket" in s.actions]
    return statement


def test_the_listed_bucket_is_always_created_by_the_module(module: Module) -> None:
    # The unconditional ListBucket grant below is safe only because the bucket is the
    # module's own, dedicated to the registry: one bucket, always created, never imported.
    bucket = module.resource("aws_s3_bucket", "this")
    assert "count" not in bucket
    assert "for_each" not in bucket
    assert list(module.resources["aws_s3_bucket"]) == ["this"]


@pytest.mark.parametrize("document", ["lambda", "read_only"])
def test_list_bucket_unconditional_on_the_module_bucket(module: Module, document: str) -> None:
    # S3 answers 404 for a missing key only to a caller allowed s3:ListBucket on the bucket
    # for that GetObject/HeadObject request, which carries no s3:prefix: any condition on
    # the grant (s3:prefix above all) would turn every miss into a 403.
    statement = list_statement(module, document)
    assert statement.effect == "Allow"
    assert statement.actions == ["s3:ListBucket"]
    assert statement.resources == [BUCKET_ARN]
    assert statement.conditions() == []
    assert "condition" not in statement.body
    assert "dynamic" not in statement.body
    assert statement.for_each is None  # present whatever the inputs (prefix = "" or not)


def test_no_policy_conditions_on_s3_prefix(module: Module) -> None:
    for document in ALL_DOCUMENTS:
        for statement in module.policy_statements(document):
            for condition, _ in statement.conditions():
                assert condition.get("variable") != "s3:prefix", (document, statement.body)
    assert "list_prefixes" not in module.locals


def test_list_bucket_is_granted_only_on_the_bucket_arn(module: Module) -> None:
    # ListBucket never rides along with object actions, and never on an object pattern.
    for document in ("lambda", "read_only", "read_write", "gc"):
        for statement in module.policy_statements(document):
            if "s3:ListBucket" in statement.actions:
                assert statement.actions == ["s3:ListBucket"], (document, statement.body)
                assert statement.resources == [BUCKET_ARN], (document, statement.body)
    # Writers and gc inherit the read-only grant instead of repeating it.
    for document in ("read_write", "gc"):
        assert "s3:ListBucket" not in actions_of(module.policy_statements(document))


def test_logs_only_on_own_log_group(module: Module) -> None:
    (logs,) = [s for s in module.policy_statements("lambda") if s.actions[0].startswith("logs:")]
    assert sorted(logs.actions) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs.resources == ["${aws_cloudwatch_log_group.lambda.arn}:*"]
    assert logs.for_each is None


def test_kms_only_when_key_given(module: Module) -> None:
    (kms,) = [s for s in module.policy_statements("lambda") if s.actions[0].startswith("kms:")]
    assert sorted(kms.actions) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms.for_each == "${local.use_kms ? [var.kms_key_arn] : []}"
    assert kms.resources == ["${statement.value}"]


def test_unconditional_lambda_statements(module: Module) -> None:
    unconditional = [s for s in module.policy_statements("lambda") if s.for_each is None]
    assert actions_of(unconditional) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_worker_policy_documents_are_layered(module: Module) -> None:
    read_only = module.datasource("aws_iam_policy_document", "read_only")
    read_write = module.datasource("aws_iam_policy_document", "read_write")
    gc = module.datasource("aws_iam_policy_document", "gc")
    assert "source_policy_documents" not in read_only
    assert read_write["source_policy_documents"] == [
        "${data.aws_iam_policy_document.read_only.json}"
    ]
    assert gc["source_policy_documents"] == ["${data.aws_iam_policy_document.read_write.json}"]

    def own_s3(name: str) -> set[str]:
        return {a for a in actions_of(module.policy_statements(name)) if a.startswith("s3:")}

    assert own_s3("read_only") == {"s3:GetObject", "s3:ListBucket"}
    assert own_s3("read_write") == {"s3:PutObject", "s3:DeleteObject"}  # staging keys only
    assert own_s3("gc") == {"s3:DeleteObject"}
    # Reading KMS-encrypted objects needs Decrypt; writing them needs GenerateDataKey.
    assert {a for a in actions_of(module.policy_statements("read_only")) if "kms" in a} == {
        "kms:Decrypt"
    }
    assert {a for a in actions_of(module.policy_statements("read_write")) if "kms" in a} == {
        "kms:GenerateDataKey"
    }


def test_statement_ids_do_not_collide_across_layers(module: Module) -> None:
    # source_policy_documents merges statements; equal Sids would override each other.
    sids: list[str] = []
    for name in ("read_only", "read_write", "gc"):
        sids.extend(s.body["sid"] for s in module.policy_statements(name))
    assert len(sids) == len(set(sids)), sids
