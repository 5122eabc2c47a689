"""fsck: a clean store is clean; each kind of damage is found and names its key."""

from __future__ import annotations

import json

import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.models.codec import decode, encode
from s3opstore.models.head import OpHead
from s3opstore.models.keys import op_head_key
from s3opstore.models.manifests import AliasManifest
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from tests.cli.support import CliStore, run_cli

CapSys = pytest.CaptureFixture[str]


def _populate(store: OpStore) -> dict[str, str]:
    """A small registry: three versions, bytes, a link, an alias, a pipeline."""
    store.register_pipeline("p", "model")
    versions = [Version.from_parts(b"A", b"1"), Version.from_parts(b"A", b"2"),
                Version.from_parts(b"B", b"1")]
    keys = {}
    for index, version in enumerate(versions):
        store.register_version("feat", version)
        keys[f"blob{index}"] = store.save_op_bytes("feat", version, f"bytes {index}".encode()).key
    store.register_valid_link("model", "feat", versions[2])
    store.register_valid_link(None, "model", Version.from_parts(b"m"))
    store.set_alias("feat", "prod", versions[1])
    entry = next(info.key for info in store.store.list("ops/feat/versions/"))
    keys["entry"] = entry
    keys["binding"] = next(info.key for info in store.store.list("ops/feat/bytes/"))
    return keys


def _problems(store: OpStore, deep: bool = False) -> list[tuple[str, str]]:
    return [(p.key, p.kind) for p in fsck(store, deep=deep).problems]


def test_clean_store_is_clean(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    _populate(store)
    report = fsck(store, deep=True)
    assert report.ok, report.problems
    assert report.counts["versions"] == 4
    assert report.counts["blobs re-hashed"] == 3
    result = run_cli(capsys, cli_store, "--json", "fsck", "--deep")
    assert result.code == 0
    assert json.loads(result.out)["ok"] is True
    assert "clean" in run_cli(capsys, cli_store, "fsck").out


def test_corrupt_manifest_is_named(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    keys = _populate(store)
    store.store.put(keys["entry"], b"{not json")
    assert _problems(store) == [(keys["entry"], "corrupt_manifest")]
    result = run_cli(capsys, cli_store, "fsck")
    assert result.code == 1
    assert f"PROBLEM {keys['entry']}: manifest at key" in result.out
    assert "1 problems" in result.out


def test_flipped_blob_byte_needs_deep(cli_store: CliStore, capsys: CapSys) -> None:
    store = cli_store.open()
    keys = _populate(store)
    data = bytearray(store.store.get(keys["blob1"]).data)
    data[0] ^= 0x01
    store.store.put(keys["blob1"], bytes(data))
    assert fsck(store).ok  # same size: only re-hashing can tell
    assert _problems(store, deep=True) == [(keys["blob1"], "blob_digest")]
    result = run_cli(capsys, cli_store, "fsck", "--deep")
    assert result.code == 1
    assert f"PROBLEM {keys['blob1']}: content hashes to sha256" in result.out


def test_missing_blob_is_found(cli_store: CliStore) -> None:
    store = cli_store.open()
    keys = _populate(store)
    store.store.delete(keys["blob2"])
    problems = fsck(store).problems
    assert [p.kind for p in problems] == ["missing_blob"]
    assert problems[0].key.startswith("ops/feat/bytes/")
    assert keys["blob2"] in problems[0].message


def test_numbering_and_dangling_references(local_store: CliStore) -> None:
    store = local_store.open()
    _populate(store)
    head_key = op_head_key("feat")
    head = decode(OpHead, store.store.get(head_key).data, head_key)
    wrong = head.model_copy(update={"latest": head.latest.model_copy(update={"number": (9, 9, 9)})})
    store.store.put(head_key, encode(wrong))
    ghost = Version.from_parts(b"never registered")
    alias = AliasManifest(op_name="feat", alias="ghost", seq=0, version=ghost, token="ab" * 8,
                          registered_at=head.latest.registered_at, registered_host="h",
                          registered_pid=1)
    alias_key = "aliases/feat/ghost/99999999999999999999.json"
    store.store.put(alias_key, encode(alias))
    store.store.put(f"links/model/feat/{ghost.vid}_20260101T000000.json", b"{}")
    problems = {(p.key, p.kind) for p in fsck(store).problems}
    assert (head_key, "numbering") in problems
    assert (alias_key, "unregistered_version") in problems
    link_key = f"links/model/feat/{ghost.vid}_20260101T000000.json"
    assert (link_key, "unregistered_version") in problems
    assert (link_key, "corrupt_manifest") in problems


def test_encoded_names_are_checked_and_foreign_segments_named(local_store: CliStore) -> None:
    store = local_store.open()
    version = Version.from_parts(b"x")
    for name in ("inner pipe", "Modèle", "../x"):  # free-text names check clean
        store.register_valid_link(name, name, version)
        store.save_op_bytes(name, version, b"bytes")
        store.set_alias(name, "prod ✓", version)
        store.register_pipeline(f"pipe {name}", name)
    assert fsck(store, deep=True).ok
    # A segment with an upper-case letter (written before names were encoded) or one that
    # is not an encoding at all: reported with its key, never taken for a name.
    legacy = "ops/MyOp/head.json"
    store.store.put(legacy, store.store.get(op_head_key("inner pipe")).data)
    store.store.put("links/Down/inner=20pipe/x.json", b"{}")
    store.store.put("pipelines/Old.json", b"{}")
    report = fsck(store)
    assert sorted((p.key, p.kind) for p in report.problems) == [
        ("links/Down/inner=20pipe/x.json", "bad_name"), (legacy, "bad_name"),
        ("pipelines/Old.json", "bad_name")]
    named = next(p for p in report.problems if p.key == legacy)
    assert "'MyOp'" in named.message and "'~my~op'" in named.message
    assert sorted(store.list_ops()) == sorted(["inner pipe", "Modèle", "../x"])
    assert "Old" not in store.list_pipelines()
