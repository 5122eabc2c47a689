"""The store's format and a newer writer's manifests, on every backend (design.md, D13).

A "future writer" is simulated by rewriting what today's code stored: optional
fields added everywhere, a must-understand field, a newer root manifest. A new
process is simulated with ``forget_probes()`` (the format check is cached per
store URL and process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import UnsupportedFormatError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.models import keys
from s3opstore.models.manifests import FORMAT_VERSION
from s3opstore.registry.context import forget_probes
from s3opstore.stores.base import ObjectStore
from s3opstore.stores.wrappers import CountingStore


def v(major: str) -> Version:
    return Version.from_parts(major=major)


def all_keys(store: ObjectStore) -> list[str]:
    return sorted(info.key for info in store.list(""))


def rewrite(store: ObjectStore, key: str, change: Any) -> None:
    raw = orjson.loads(store.get(key).data)
    change(raw)
    store.put(key, orjson.dumps(raw))


def populate(opstore: OpStore) -> None:
    opstore.register_version("up", v("a"))
    opstore.register_version("up", v("b"))
    opstore.save_op_bytes("up", v("b"), b"model bytes")
    opstore.register_valid_link("down", "up", v("b"))
    opstore.set_alias("up", "prod", v("a"))
    opstore.register_pipeline("pipe", "down")


def reopen(opstore: OpStore) -> OpStore:
    forget_probes()  # another process
    return OpStore(opstore.store)


def test_the_first_write_creates_the_root_manifest_and_reads_write_nothing(
        opstore: OpStore) -> None:
    assert opstore.latest_version("op") is None and opstore.list_ops() == []
    assert all_keys(opstore.store) == []
    opstore.register_version("op", v("a"))
    root = orjson.loads(opstore.store.get(keys.FORMAT_KEY).data)
    assert root["format_version"] == FORMAT_VERSION and root["kind"] == "store-format"
    assert root["written_by"].startswith("s3opstore ")


def test_a_future_writers_optional_fields_are_read_and_fsck_is_clean(opstore: OpStore) -> None:
    populate(opstore)
    store = opstore.store

    def add_fields(raw: dict[str, Any]) -> None:
        raw["written_with"] = {"release": "9.0", "features": ["retention"]}
        for nested in ("latest", "record"):
            if nested in raw:
                raw[nested]["signed_by"] = "ci"

    manifests = [key for key in all_keys(store) if key.endswith(".json")]
    assert keys.FORMAT_KEY in manifests and len(manifests) >= 7
    for key in manifests:
        rewrite(store, key, add_fields)

    reader = reopen(opstore)
    assert [r.version for r in reader.get_versions("up")] == [v("a"), v("b")]
    assert reader.load_op_bytes("up", v("b")) == b"model bytes"
    assert reader.get_validated_links("down", "up") == {v("b")}
    assert reader.get_alias("up", "prod").version == v("a")
    assert reader.get_pipeline("pipe").last_op_name == "down"
    assert reader.register_version("up", v("c")).number == (3, 0, 0)  # CAS on a future head
    report = fsck(reader, deep=True)
    assert report.ok, report.problems
    assert not [note for note in report.notes if "unknown key" in note]


def test_a_must_understand_field_refuses_that_manifest_only(opstore: OpStore) -> None:
    populate(opstore)
    opstore.register_version("other", v("a"))
    head = keys.op_head_key("up")

    def require_retention(raw: dict[str, Any]) -> None:
        raw["retention"] = {"keep_last": 3}
        raw["must_understand"] = ["retention"]

    rewrite(opstore.store, head, require_retention)
    reader = reopen(opstore)
    calls: list[Callable[[], object]] = [lambda: reader.latest_version("up"),
                                         lambda: reader.register_version("up", v("c"))]
    for call in calls:
        with pytest.raises(UnsupportedFormatError, match="retention") as caught:
            call()
        assert head in caught.value.message
    assert reader.latest_version("other") is not None
    found = [(p.key, p.kind) for p in fsck(reader).problems]
    assert (head, "unsupported_format") in found  # what hangs off the head follows it
    assert not [kind for _key, kind in found if kind == "corrupt_manifest"], found


def test_a_newer_store_format_is_refused_on_open_naming_both_versions(
        opstore: OpStore) -> None:
    populate(opstore)
    rewrite(opstore.store, keys.FORMAT_KEY,
            lambda raw: raw.update(format_version=FORMAT_VERSION + 1, written_by="s3opstore 9.0"))
    before = all_keys(opstore.store)
    reader = reopen(opstore)
    expected = (rf"format version {FORMAT_VERSION + 1} \(written by s3opstore 9\.0\); "
                rf"this s3opstore .* reads format version {FORMAT_VERSION} and older")
    for call in (lambda: reader.latest_version("up"),
                 lambda: reader.register_version("new", v("a")),
                 reader.check_store,
                 lambda: collect_garbage(reader, grace_hours=0)):
        with pytest.raises(UnsupportedFormatError, match=expected):
            call()
    assert [(p.kind, p.key) for p in fsck(reader).problems] == [("unsupported_format", "")]
    assert all_keys(opstore.store) == before  # nothing written, nothing swept


def test_a_store_from_before_the_root_manifest_is_format_1(opstore: OpStore) -> None:
    populate(opstore)
    opstore.store.delete(keys.FORMAT_KEY)
    reader = reopen(opstore)
    assert reader.latest_version("up") is not None
    assert fsck(reader).ok
    reader.register_version("up", v("c"))
    # the first write stamps the store with this release's format: it reads everything
    # format 1 holds (link events in op chains among them), so nothing needs moving
    assert orjson.loads(opstore.store.get(keys.FORMAT_KEY).data)["format_version"] == 2
    assert FORMAT_VERSION == 2
    reader.register_valid_link("down", "up", v("c"))
    assert list(opstore.store.list(keys.link_events_prefix("up", v("c").vid)))
    assert fsck(reader).ok


def test_the_format_is_read_once_per_process(opstore: OpStore) -> None:
    populate(opstore)
    root = opstore.store.get(keys.FORMAT_KEY)
    counted = CountingStore(opstore.store)
    forget_probes()
    first = OpStore(counted)
    first.latest_version("up")
    assert counted.counts["get"] == 2  # the root manifest, then the head
    counted.reset()
    OpStore(counted).latest_version("up")  # another OpStore, same process and URL
    first.register_version("up", v("c"))
    # one head each (a version's event rides in its head, design.md D16): the format
    # is not read again
    assert counted.counts["get"] == 2
    assert opstore.store.get(keys.FORMAT_KEY) == root  # nor written again
