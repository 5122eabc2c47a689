"""OpStore behaviour, run against every backend (memory, local, moto, moto server, SeaweedFS)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import (
    AliasNotFoundError,
    AlreadyExistsError,
    BytesNotFoundError,
    ConflictError,
    CorruptManifestError,
    IntegrityError,
    InvalidInputError,
    InvalidNameError,
    InvalidVersionError,
    OpNotFoundError,
    UnsupportedFormatError,
    VersionNotFoundError,
)
from s3opstore.models import keys
from s3opstore.stores.base import check_key


def v(major: str, minor: str = "", patch: str = "", *, year: int = 2020) -> Version:
    return Version.from_parts(major=major, minor=minor, patch=patch,
                              creation_time=datetime(year, 1, 1, 12, 0, 0, 123456))


def all_keys(store: OpStore) -> list[str]:
    return sorted(info.key for info in store.store.list(""))


def test_numbering_follows_the_latest_version(opstore: OpStore) -> None:
    history = [
        (v("a"), (1, 0, 0)),
        (v("a", "x"), (1, 1, 0)),
        (v("a", "x", "p"), (1, 1, 1)),
        (v("a", "x", "q"), (1, 1, 2)),
        (v("a", "y"), (1, 2, 0)),
        (v("b", "y"), (2, 0, 0)),
        (v("b", "y", "z"), (2, 0, 1)),
        (v("a", "x"), (1, 1, 0)),     # an old version again: its first record
        (v("c"), (3, 0, 0)),
    ]
    for version, number in history:
        assert opstore.register_version("model", version).number == number
    records = opstore.get_versions("model")
    assert [r.number for r in records] == [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2),
                                           (1, 2, 0), (2, 0, 0), (2, 0, 1), (3, 0, 0)]
    assert [r.seq for r in records] == list(range(8))
    latest = opstore.latest_version("model")
    assert latest is not None and latest.number == (3, 0, 0)


def test_re_registration_keeps_the_first_record(opstore: OpStore) -> None:
    first = opstore.register_version("op", v("a", year=2019))
    again = opstore.register_version("op", v("a", year=2024))
    assert again == first
    assert str(again.version) == str(first.version)  # first creation time, byte for byte
    assert again.registered_at == first.registered_at
    opstore.register_version("op", v("b"))
    assert opstore.register_version("op", v("a", year=2025)) == first
    assert len(opstore.get_versions("op")) == 2


def test_records_from_listing_equal_records_from_the_head(opstore: OpStore) -> None:
    records = [opstore.register_version("op", v(str(i))) for i in range(3)]
    listed = opstore.get_versions("op")
    assert listed == records
    assert all(r.registered_host and r.registered_pid == os.getpid() for r in listed)


def test_unknown_op(opstore: OpStore) -> None:
    assert opstore.get_versions("nothing") == []
    assert opstore.latest_version("nothing") is None
    with pytest.raises(OpNotFoundError, match="nothing"):
        opstore.load_op_bytes("nothing", v("a"))
    assert all_keys(opstore) == []


def test_bytes_round_trip_in_every_form(opstore: OpStore, tmp_path: Path) -> None:
    version = v("a")
    opstore.register_version("op", version)
    payload = os.urandom(300_000)
    saved = opstore.save_op_bytes("op", version, payload)
    assert saved.size == len(payload) and len(saved.sha256) == 64
    assert opstore.load_op_bytes("op", version) == payload

    source = tmp_path / "model.bin"
    source.write_bytes(payload[::-1])
    opstore.save_op_bytes("op", version, source)
    assert opstore.load_op_bytes("op", version) == payload[::-1]  # newest save wins

    opstore.save_op_bytes("op", version, io.BytesIO(b"from a file object"))
    target = tmp_path / "out.bin"
    opstore.load_op_bytes_to("op", version, target)
    assert target.read_bytes() == b"from a file object"
    sink = io.BytesIO()
    opstore.load_op_bytes_to("op", version, sink)
    assert sink.getvalue() == b"from a file object"


def test_unseekable_stream_is_spooled(opstore: OpStore) -> None:
    version = v("a")
    opstore.register_version("op", version)
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "wb") as writer:
        writer.write(b"piped bytes" * 1000)
    with os.fdopen(read_fd, "rb") as reader:
        opstore.save_op_bytes("op", version, reader)
    assert opstore.load_op_bytes("op", version) == b"piped bytes" * 1000


def test_identical_bytes_are_stored_once(opstore: OpStore) -> None:
    first, second = v("a"), v("b")
    for version in (first, second):
        opstore.register_version("op", version)
        opstore.save_op_bytes("op", version, b"same weights")
    opstore.save_op_bytes("op", first, b"same weights")  # saving again: no new binding
    blobs = [k for k in all_keys(opstore) if "/blobs/" in k]
    bindings = [k for k in all_keys(opstore) if "/bytes/" in k]
    assert len(blobs) == 1 and len(bindings) == 2


def test_save_needs_a_registered_version(opstore: OpStore) -> None:
    with pytest.raises(OpNotFoundError, match="'op'"):
        opstore.save_op_bytes("op", v("a"), b"x")
    opstore.register_version("op", v("a"))
    with pytest.raises(VersionNotFoundError, match=str(v("b"))):
        opstore.save_op_bytes("op", v("b"), b"x")
    with pytest.raises(BytesNotFoundError):
        opstore.load_op_bytes("op", v("a"))
    assert not [k for k in all_keys(opstore) if "/blobs/" in k]


def test_flipped_blob_byte_is_detected(opstore: OpStore, tmp_path: Path) -> None:
    version = v("a")
    opstore.register_version("op", version)
    saved = opstore.save_op_bytes("op", version, b"precious model weights")
    opstore.store.put(saved.key, b"precious model weightz")
    with pytest.raises(IntegrityError, match=saved.key):
        opstore.load_op_bytes("op", version)
    with pytest.raises(IntegrityError):
        opstore.load_op_bytes_to("op", version, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # never renamed into place


def test_corrupt_manifest_names_its_key_and_spares_other_ops(opstore: OpStore) -> None:
    opstore.register_version("broken", v("a"))
    opstore.register_version("healthy", v("a"))
    opstore.store.put(keys.op_head_key("broken"), b"{not json")
    with pytest.raises(CorruptManifestError, match="ops/broken/head.json"):
        opstore.latest_version("broken")
    with pytest.raises(CorruptManifestError):
        opstore.get_versions("broken")
    opstore.store.put(keys.op_head_key("broken"), b'{"schema_version": 1}')
    with pytest.raises(CorruptManifestError, match="ops/broken/head.json"):
        opstore.register_version("broken", v("b"))
    # A newer schema is not damage: the reader is too old (design.md, D13).
    opstore.store.put(keys.op_head_key("broken"), b'{"schema_version": 99}')
    with pytest.raises(UnsupportedFormatError, match=r"schema_version: 99 \(this release reads 1"):
        opstore.register_version("broken", v("b"))
    assert opstore.register_version("healthy", v("b")).number == (2, 0, 0)
    assert len(opstore.get_versions("healthy")) == 2


def test_links(opstore: OpStore) -> None:
    up = v("a", year=2019)
    opstore.register_valid_link("model", "scaler", up)
    opstore.register_valid_link("model", "scaler", v("a", year=2030))  # same link again
    links = opstore.get_validated_links("model", "scaler")
    assert links == {up}
    assert [str(x) for x in links] == [str(up)]
    assert opstore.get_versions("model") == []  # known only as a downstream
    assert "model" in opstore.list_ops() and "scaler" in opstore.list_ops()
    assert opstore.get_validated_links("model", "other") == set()
    assert len([k for k in all_keys(opstore) if k.startswith("links/")]) == 1


def test_end_of_pipeline_link_registers_only_the_version(opstore: OpStore) -> None:
    record = opstore.register_valid_link(None, "last", v("z"))
    assert record.number == (1, 0, 0)
    assert not [k for k in all_keys(opstore) if k.startswith("links/")]


def test_pipelines(opstore: OpStore) -> None:
    assert not opstore.pipeline_exists("p")
    opstore.register_pipeline("p", "final_op")  # before the op has any version
    opstore.register_pipeline("p", "final_op")  # again: no duplicate, no error
    assert opstore.pipeline_exists("p")
    assert opstore.get_pipeline("p").last_op_name == "final_op"
    assert "final_op" in opstore.list_ops()
    assert opstore.list_pipelines() == ["p"]
    with pytest.raises(AlreadyExistsError, match="final_op"):
        opstore.register_pipeline("p", "other_op")


@pytest.mark.parametrize("bad", ["", "x" * 201, "nul\x00", "a\nb", "lone\udcff", "é" * 100])
def test_bad_names_write_nothing(opstore: OpStore, bad: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: opstore.register_version(bad, v("a")),
        lambda: opstore.register_valid_link(bad, "up", v("a")),
        lambda: opstore.register_valid_link("down", bad, v("a")),
        lambda: opstore.register_pipeline(bad, "op"),
        lambda: opstore.register_pipeline("p", bad),
        lambda: opstore.save_op_bytes(bad, v("a"), b"x"),
        lambda: opstore.set_alias("op", bad, v("a")),
    ]
    for call in calls:
        with pytest.raises(InvalidNameError):
            call()
    assert all_keys(opstore) == []


# Names Chariots produces (a nested pipeline's name becomes an op name) and path tricks that
# are names too: each is stored under its own encoded segment, inside the prefix.
CHARIOTS_NAMES = ["inner pipe", "RandomForest", "randomforest", "café",
                  "cafe\u0301", "数据源", "../x", ".", "a/b", "v1.2."]


def test_any_chariots_name_round_trips_on_every_backend(opstore: OpStore) -> None:
    versions = {name: v(name) for name in CHARIOTS_NAMES}
    for name, version in versions.items():
        opstore.register_valid_link("final pipe", name, version)
        opstore.save_op_bytes(name, version, name.encode())
        opstore.set_alias(name, f"prod {name}", version)
        opstore.register_pipeline(f"pipe {name}", name)
    assert opstore.list_ops() == sorted([*CHARIOTS_NAMES, "final pipe"])
    assert opstore.list_pipelines() == sorted(f"pipe {name}" for name in CHARIOTS_NAMES)
    for name, version in versions.items():
        assert opstore.load_op_bytes(name, version) == name.encode()
        assert opstore.get_validated_links("final pipe", name) == {version}
        assert opstore.list_aliases(name) == [f"prod {name}"]
        assert opstore.get_alias(name, f"prod {name}").version == version
        assert opstore.pipeline_exists(f"pipe {name}")
        assert [r.version for r in opstore.get_versions(name)] == [version]
    # Case and Unicode form never merge: each name kept only its own version.
    assert opstore.get_versions("Randomforest") == []
    stored = all_keys(opstore)
    for key in stored:
        check_key(key)
    assert len({key.casefold() for key in stored}) == len(stored)  # safe on case-insensitive FS


def test_bad_versions_write_nothing(opstore: OpStore) -> None:
    for bad in ["nope", "a.b.c_2020-01-01", 42]:
        with pytest.raises(InvalidVersionError):
            opstore.register_version("op", bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidVersionError):
            opstore.register_valid_link("down", "op", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        opstore.register_version("op", v("a"), idempotency_key="")
    assert all_keys(opstore) == []


def test_idempotency_keys(opstore: OpStore) -> None:
    first = opstore.register_version("op", v("a"), idempotency_key="job-1")
    assert opstore.register_version("op", v("a"), idempotency_key="job-1") == first
    with pytest.raises(ConflictError, match="job-1"):
        opstore.register_version("op", v("b"), idempotency_key="job-1")

    opstore.save_op_bytes("op", v("a"), b"old", idempotency_key="save-1")
    opstore.save_op_bytes("op", v("a"), b"new")
    # A retry of the first save must not bring the old bytes back on top.
    opstore.save_op_bytes("op", v("a"), b"old", idempotency_key="save-1")
    assert opstore.load_op_bytes("op", v("a")) == b"new"
    with pytest.raises(ConflictError):
        opstore.save_op_bytes("op", v("a"), b"other", idempotency_key="save-1")


def test_aliases(opstore: OpStore) -> None:
    one, two = v("a"), v("b")
    opstore.register_version("op", one)
    opstore.register_version("op", two)
    with pytest.raises(AliasNotFoundError):
        opstore.get_alias("op", "production")
    opstore.set_alias("op", "production", one, expected=None)
    assert opstore.get_alias("op", "production").version == one
    with pytest.raises(ConflictError, match="production"):
        opstore.set_alias("op", "production", two, expected=two)
    opstore.set_alias("op", "production", two, expected=one, idempotency_key="promote")
    opstore.set_alias("op", "production", one)
    # Replaying the promotion must not move the alias back.
    opstore.set_alias("op", "production", two, expected=one, idempotency_key="promote")
    assert opstore.resolve("op", "production").version == one
    assert [e.version for e in opstore.alias_history("op", "production")] == [one, two, one]
    assert opstore.list_aliases("op") == ["production"]
    assert opstore.resolve("op").version == two  # "latest"
    assert opstore.resolve("op", str(one)).version == one
    with pytest.raises(VersionNotFoundError):
        opstore.set_alias("op", "staging", v("zzz"))


@pytest.mark.parametrize("server_fixture", ["moto_server", "seaweed"])
def test_store_writes_only_under_its_prefix(server_fixture: str,
                                            request: pytest.FixtureRequest) -> None:
    from s3opstore.stores.s3 import S3Store

    server = request.getfixturevalue(server_fixture)
    bucket = server.new_bucket("confined")
    client = server.client()
    store = OpStore(S3Store(bucket, "team/registry", client=client))
    store.register_valid_link("down", "up", v("a"))
    store.register_pipeline("p", "down")
    store.save_op_bytes("up", v("a"), b"bytes")
    store.set_alias("up", "prod", v("a"))
    tricks = ["../escape", "..%2fescape", "a/../../b", "/abs", "..", "../../team/other"]
    for trick in tricks:  # names, stored encoded: inside the prefix, under their own segment
        store.register_valid_link(trick, trick, v("b"))
        store.set_alias(trick, trick, v("b"))
        store.register_pipeline(trick, trick)
    listed = [obj["Key"] for obj in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed and all(key.startswith("team/registry/") for key in listed)
    assert all(".." not in key.split("/") and "//" not in key for key in listed)
    assert store.list_ops() == sorted(["down", "up", *tricks])
    assert store.list_pipelines() == sorted(["p", *tricks])


def test_reused_idempotency_key_with_other_bytes_is_a_conflict(opstore: OpStore) -> None:
    opstore.register_version("op", v("a"))
    opstore.save_op_bytes("op", v("a"), b"first", idempotency_key="k")
    with pytest.raises(ConflictError, match="'k'"):
        opstore.save_op_bytes("op", v("a"), b"second", idempotency_key="k")
    assert opstore.load_op_bytes("op", v("a")) == b"first"


def test_saving_again_repairs_a_damaged_blob(opstore: OpStore) -> None:
    opstore.register_version("op", v("a"))
    saved = opstore.save_op_bytes("op", v("a"), b"the genuine weights")
    opstore.store.put(saved.key, b"the genuine weightz")  # same size, other bytes
    with pytest.raises(IntegrityError):
        opstore.load_op_bytes("op", v("a"))
    opstore.save_op_bytes("op", v("a"), b"the genuine weights")
    assert opstore.load_op_bytes("op", v("a")) == b"the genuine weights"


def test_binding_an_uploaded_blob_verifies_it(opstore: OpStore) -> None:
    import hashlib

    opstore.register_version("op", v("a"))
    data = b"uploaded straight to the content address"
    sha = hashlib.sha256(data).hexdigest()
    key = keys.blob_key("op", sha)
    with pytest.raises(BytesNotFoundError):
        opstore.bind_uploaded_blob("op", v("a"), sha, len(data))
    opstore.store.put(key, data[::-1])  # wrong bytes at the address
    with pytest.raises(IntegrityError, match=sha):
        opstore.bind_uploaded_blob("op", v("a"), sha, len(data))
    # Left in place (deleting could hit genuine bytes a concurrent save wrote), never bound.
    assert opstore.store.get(key).data == data[::-1]
    with pytest.raises(BytesNotFoundError):
        opstore.load_op_bytes("op", v("a"))
    opstore.store.put(key, data)
    assert opstore.bind_uploaded_blob("op", v("a"), sha, len(data)).size == len(data)
    assert opstore.load_op_bytes("op", v("a")) == data
    with pytest.raises(InvalidInputError):
        opstore.bind_uploaded_blob("op", v("a"), "not-hex", 1)


def test_retrying_a_create_only_alias_move_is_not_a_conflict(opstore: OpStore) -> None:
    opstore.register_version("op", v("a"))
    opstore.set_alias("op", "prod", v("a"), expected=None)
    opstore.set_alias("op", "prod", v("a"), expected=None)  # the same move again
    assert len(opstore.alias_history("op", "prod")) == 1


def test_resolve_tells_versions_from_alias_names(opstore: OpStore) -> None:
    opstore.register_version("op", v("a"))
    opstore.register_version("op", v("b"))
    opstore.set_alias("op", "prod_v1.2", v("a"))  # looks a little like a version string
    assert opstore.resolve("op", "prod_v1.2").version == v("a")
    assert opstore.resolve("op", str(v("a"))).version == v("a")
    assert opstore.resolve("op", v("b")).version == v("b")
    assert opstore.resolve("op").version == v("b")
    with pytest.raises(AliasNotFoundError):
        opstore.resolve("op", "staging")
