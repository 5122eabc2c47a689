"""Manifests read what a newer writer stored (design.md, D13), without I/O.

Unknown fields are optional and ignored at any depth; fields listed in
``must_understand`` that this release does not know, and schema versions above
its own, refuse the manifest with UnsupportedFormatError (never corruption).
What this code builds stays ``extra="forbid"``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import pytest
from pydantic import Field, ValidationError

from s3opstore import OpStore, Version
from s3opstore.errors import CorruptManifestError, UnsupportedFormatError
from s3opstore.models.codec import decode, encode
from s3opstore.models.events import Event
from s3opstore.models.head import OpHead
from s3opstore.models.keys import op_head_key
from s3opstore.models.manifests import Tokened, VersionRecord
from s3opstore.stores.memory import MemoryStore

KEY = "ops/op/head.json"


def head() -> OpHead:
    record = VersionRecord(
        op_name="op", version=Version.from_parts(major="a"), number=(1, 0, 0), seq=0,
        registered_at=datetime(2026, 1, 2, tzinfo=UTC), registered_host="h", registered_pid=1)
    return OpHead(op_name="op", latest=record, token="ab" * 8)


def future(**changes: Any) -> bytes:
    """The head as a newer writer could store it: ``changes`` merged into its JSON."""
    raw = orjson.loads(encode(head()))
    for path, value in changes.items():
        target = raw
        *parents, last = path.split("__")
        for parent in parents:
            target = target[parent]
        target[last] = value
    return orjson.dumps(raw)


def test_unknown_optional_fields_are_ignored_at_every_depth() -> None:
    data = future(retention={"days": 30}, latest__signed_by="ci", latest__labels=["x"])
    assert decode(OpHead, data, KEY) == head()


def test_a_known_field_listed_as_must_understand_is_understood() -> None:
    data = future(must_understand=["latest", "token"], latest__must_understand=["seq"])
    read = decode(OpHead, data, KEY)
    assert read.must_understand == ["latest", "token"]  # an op head keeps its list (D2)
    assert read.model_copy(update={"must_understand": []}) == head()


@pytest.mark.parametrize("changes", [
    {"must_understand": ["retention"], "retention": {"days": 30}},
    {"latest__must_understand": ["retention"], "latest__retention": 30},
])
def test_an_unknown_must_understand_field_refuses_the_manifest(changes: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedFormatError, match="retention") as caught:
        decode(OpHead, future(**changes), KEY)
    assert KEY in caught.value.message
    assert caught.value.kind == "unsupported_format"


def test_a_newer_schema_version_is_unsupported_not_corrupt() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"schema_version: 2 \(this release reads 1"):
        decode(OpHead, future(schema_version=2), KEY)


@pytest.mark.parametrize("bad", ["retention", [1], {"a": 1}])
def test_a_malformed_must_understand_is_corruption(bad: object) -> None:
    with pytest.raises(CorruptManifestError, match="must_understand"):
        decode(OpHead, future(must_understand=bad), KEY)


def test_what_this_code_builds_still_forbids_unknown_fields() -> None:
    raw = orjson.loads(encode(head()))
    assert OpHead.model_validate(raw) == head()
    with pytest.raises(ValidationError, match="retention"):
        OpHead.model_validate({**raw, "retention": 1})


class _HeadBeforeD2Previous(Tokened):
    """An op head as the release before the two-version head read it (design.md, D2)."""

    kind: Literal["op-head"] = "op-head"
    op_name: str
    latest: VersionRecord
    idempotency: list[tuple[str, str]] = Field(default_factory=list)
    event: Event | None = None
    recent: list[str] = Field(default_factory=list)


def test_an_older_release_refuses_a_head_that_holds_a_previous_version() -> None:
    """It would miss ``previous`` in a listing, or drop it from the head unlisted."""
    store = OpStore(MemoryStore())
    store.register_version("op", Version.from_parts(major="a"))
    first = store.store.get(op_head_key("op")).data
    assert decode(_HeadBeforeD2Previous, first, KEY).latest.seq == 0  # no previous yet
    store.register_version("op", Version.from_parts(major="b"))
    second = store.store.get(op_head_key("op")).data
    assert orjson.loads(second)["must_understand"] == ["previous", "previous_event"]
    assert decode(OpHead, second, KEY).previous is not None  # this release reads it
    with pytest.raises(UnsupportedFormatError, match="previous"):
        decode(_HeadBeforeD2Previous, second, KEY)
