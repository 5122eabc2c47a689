"""The one SHA-256 rule, as every layer applies it."""

from __future__ import annotations

import hashlib

import pytest
from pydantic import TypeAdapter, ValidationError

from s3opstore import OpStore
from s3opstore.errors import InvalidInputError
from s3opstore.models.digests import Sha256, check_sha256, is_sha256
from s3opstore.stores import MemoryStore

GOOD = hashlib.sha256(b"x").hexdigest()
BAD = [GOOD.upper(), GOOD[:-1], GOOD + "0", GOOD + "\n", " " + GOOD, "g" * 64, "", None, 64]


def test_a_digest_is_64_lowercase_hex_and_nothing_else() -> None:
    assert is_sha256(GOOD) and check_sha256(GOOD) == GOOD
    assert TypeAdapter(Sha256).validate_python(GOOD) == GOOD
    for bad in BAD:
        assert not is_sha256(bad), bad
        with pytest.raises(InvalidInputError, match="upload digest"):
            check_sha256(bad, "upload digest")
        if isinstance(bad, str):
            with pytest.raises(ValidationError):
                TypeAdapter(Sha256).validate_python(bad)


def test_the_registry_refuses_a_bad_digest_before_any_request() -> None:
    store = OpStore(MemoryStore())
    with pytest.raises(InvalidInputError, match="not 64 lowercase hex"):
        store.bind_uploaded_blob("op", "1", GOOD + "\n", 1)
    assert list(store.store.list("")) == []
