"""Deleting an alias keeps its history; the alias reads as absent until set again."""

from __future__ import annotations

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import AliasNotFoundError, ConflictError

A, B = Version.from_parts(b"a"), Version.from_parts(b"b")


def test_a_deleted_alias_is_absent_but_its_history_stays(opstore: OpStore) -> None:
    for version in (A, B):
        opstore.register_version("pca", version)
    opstore.set_alias("pca", "prod", A)
    with pytest.raises(ConflictError, match="the deletion required that it points at"):
        opstore.delete_alias("pca", "prod", expected="2.0.0")
    deleted = opstore.delete_alias("pca", "prod", expected="1.0.0")
    assert (deleted.deleted, deleted.seq, deleted.version) == (True, 1, A)
    with pytest.raises(AliasNotFoundError, match="was deleted .* its history is kept"):
        opstore.get_alias("pca", "prod")
    with pytest.raises(AliasNotFoundError):
        opstore.resolve("pca@prod")
    with pytest.raises(AliasNotFoundError, match="no alias 'prod' to delete"):
        opstore.delete_alias("pca", "prod")
    assert opstore.list_aliases("pca") == []
    assert opstore.list_aliases("pca", include_deleted=True) == ["prod"]
    with pytest.raises(ConflictError):
        opstore.set_alias("pca", "prod", B, expected=A)  # deleted: it points nowhere
    opstore.set_alias("pca", "prod", B, expected=None)
    assert opstore.resolve("pca@prod").version == B
    assert [(e.seq, e.version, e.deleted) for e in opstore.alias_history("pca", "prod")] == [
        (0, A, False), (1, A, True), (2, B, False)]


def test_a_retried_deletion_with_its_key_applies_once(opstore: OpStore) -> None:
    opstore.register_version("pca", A)
    opstore.set_alias("pca", "prod", A)
    first = opstore.delete_alias("pca", "prod", idempotency_key="del-1")
    again = opstore.delete_alias("pca", "prod", idempotency_key="del-1")
    assert again == first
    assert len(opstore.alias_history("pca", "prod")) == 2
