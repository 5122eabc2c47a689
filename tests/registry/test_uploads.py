"""``OpStore.prepare_upload``: the registry's side of a presigned upload, on every backend."""

from __future__ import annotations

import hashlib

import pytest

from s3opstore.errors import InvalidInputError, OpNotFoundError, VersionNotFoundError
from s3opstore.models.keys import parse_upload_key
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

DATA = b"model bytes " * 100
SHA = hashlib.sha256(DATA).hexdigest()


def _keys(opstore: OpStore) -> list[str]:
    return [info.key for info in opstore.store.list("")]


def test_a_ticket_names_a_fresh_staging_key_and_whether_the_bytes_are_stored(
        opstore: OpStore) -> None:
    version = Version.from_parts(b"v1")
    opstore.register_version("clf", version)
    first = opstore.prepare_upload("clf", version, SHA, len(DATA))
    second = opstore.prepare_upload("clf", str(version), SHA, len(DATA))
    assert not first.exists
    assert parse_upload_key("clf", first.upload_key) is not None
    assert first.upload_key != second.upload_key
    before = _keys(opstore)
    opstore.save_op_bytes("clf", version, DATA)
    assert opstore.prepare_upload("clf", version, SHA, len(DATA)).exists
    # the same digest with another size is not proof of anything
    assert not opstore.prepare_upload("clf", version, SHA, len(DATA) + 1).exists
    assert set(before) < set(_keys(opstore))  # only save_op_bytes wrote


@pytest.mark.parametrize(("op", "sha", "size", "error", "named"), [
    ("clf", "F" * 64, 3, InvalidInputError, "F" * 64),
    ("clf", SHA, -1, InvalidInputError, "-1"),
    ("clf", SHA, True, InvalidInputError, "True"),
    ("nobody", SHA, 3, OpNotFoundError, "nobody"),
    ("bad\x00name", SHA, 3, InvalidInputError, "U\\+0000"),
])
def test_bad_requests_are_typed_errors_and_write_nothing(
        opstore: OpStore, op: str, sha: str, size: int, error: type[Exception],
        named: str) -> None:
    version = Version.from_parts(b"v1")
    opstore.register_version("clf", version)
    before = _keys(opstore)
    with pytest.raises(error, match=named):
        opstore.prepare_upload(op, version, sha, size)
    with pytest.raises(VersionNotFoundError):
        opstore.prepare_upload("clf", Version.from_parts(b"unregistered"), SHA, 3)
    assert _keys(opstore) == before
