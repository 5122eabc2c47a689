"""Deprecating and archiving versions, hiding ops: nothing deleted, loads warn or refuse."""

from __future__ import annotations

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import InvalidInputError, OpNotFoundError
from s3opstore.registry.retire import RetiredVersionError, RetiredVersionWarning

A, B = Version.from_parts(b"a"), Version.from_parts(b"b")


def test_statuses_are_kept_and_loads_warn_or_refuse(opstore: OpStore) -> None:
    for version in (A, B):
        opstore.register_version("pca", version)
        opstore.save_op_bytes("pca", version, version.major.encode())
    keys = sorted(info.key for info in opstore.store.list("ops/"))
    opstore.set_version_status("pca", "1.0.0", "deprecated", reason="leaks test data")
    with pytest.warns(RetiredVersionWarning, match="deprecated \\(leaks test data\\)"):
        opstore.check_loadable("pca", A)
    opstore.set_version_status("pca", "1.0.0", "archived")
    with pytest.raises(RetiredVersionError, match="is archived"):
        opstore.check_loadable("pca", A)
    with pytest.warns(RetiredVersionWarning):
        opstore.check_loadable("pca", A, allow_archived=True)
    assert opstore.check_loadable("pca", B) is None
    assert [e.state for e in opstore.status_history("pca", "1.0.0")] == [
        "deprecated", "archived"]
    assert opstore.load_op_bytes("pca", A) == A.major.encode()  # still there, by name
    assert sorted(info.key for info in opstore.store.list("ops/")) == keys  # nothing deleted
    with pytest.raises(InvalidInputError, match="'hidden' is not one of"):
        opstore.set_version_status("pca", "2.0.0", "hidden")


def test_a_hidden_op_is_listed_only_on_request(opstore: OpStore) -> None:
    for op in ("pca", "oops"):
        opstore.register_version(op, A)
    opstore.hide_op("oops", reason="created by mistake")
    assert opstore.list_ops() == ["pca"]
    assert opstore.list_ops(include_hidden=True) == ["oops", "pca"]
    assert opstore.search_ops().items == ["pca"]
    assert opstore.resolve("oops").version == A  # still readable by name
    opstore.hide_op("oops", hidden=False)
    assert opstore.list_ops() == ["oops", "pca"]
    with pytest.raises(OpNotFoundError):
        opstore.hide_op("never-existed")
