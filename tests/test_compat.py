"""S3OpStoreClient driven the way Chariots' pipelines drive it, in process.

Versions going in are Chariots-style objects (not s3opstore's Version);
versions coming out are compared in sets with them, as Chariots users do.
"""

from __future__ import annotations

import sys
import types
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore import OpStore, S3OpStoreClient, Version
from s3opstore.compat import ChariotsVersion, chariots_version_class
from s3opstore.errors import (
    InvalidInputError,
    InvalidVersionError,
    OpNotFoundError,
    VersionNotFoundError,
)
from s3opstore.registry.retire import RetiredVersionError, RetiredVersionWarning
from tests.compat_support import (
    ChariotsNode,
    ChariotsPipeline,
    FakeChariotsVersion,
    Op,
    cv,
    load_pipeline,
    save_pipeline,
)


@pytest.fixture
def client(opstore: OpStore, monkeypatch: pytest.MonkeyPatch) -> S3OpStoreClient:
    monkeypatch.setitem(sys.modules, "chariots", None)  # not importable: the stand-in is used
    return S3OpStoreClient(opstore)


def test_chariots_save_then_load_flow(client: S3OpStoreClient) -> None:
    scaler_v, model_v = cv(b"s1"), cv(b"m1", micro=5)
    pipeline = ChariotsPipeline("train", [ChariotsNode("scaler", scaler_v, data=b"scaler"),
                                          ChariotsNode("model", model_v, data=b"model")])
    assert client.pipeline_exists("train") is False
    save_pipeline(client, pipeline)
    assert client.pipeline_exists("train") is True

    versions = client.get_all_versions_of_op(Op("scaler"))
    assert versions == {scaler_v}  # hashes match: the same string, time included
    assert {scaler_v} == versions
    assert {str(x) for x in versions} == {str(scaler_v)}
    assert str(scaler_v).endswith("2020-04-01 12:00:00")  # no fraction: byte for byte
    assert client.get_validated_links("model", "scaler") == {scaler_v}
    assert client.get_op_bytes_for_version(Op("model"), model_v) == b"model"
    assert client.get_all_versions_of_op(Op("model")) == {model_v}


def test_returned_versions_behave_like_chariots_versions(client: S3OpStoreClient) -> None:
    first, second = cv(b"a", at=1), cv(b"b", at=2, micro=7)
    client.register_valid_link("down", "op", first)
    client.register_valid_link("down", "op", second)
    returned = client.get_all_versions_of_op(Op("op"))
    assert returned is not None
    assert all(type(v) is ChariotsVersion for v in returned)
    assert returned == {first, second} and {first, second} == returned
    newest = max(returned)  # Chariots loads max(all_versions)
    assert newest == second and str(newest) == str(second)
    assert min(returned) == first and sorted(returned) == [first, second]
    assert {v.major for v in returned} == {first.major, second.major}
    assert hash(newest) == hash(str(second))
    # Equal hashes at another creation time: == holds, the set hash does not (as in Chariots).
    later = FakeChariotsVersion(second.major, second.minor, second.patch, datetime(2021, 1, 1))
    assert newest == later and later == newest
    assert later not in returned
    # A returned version goes back in as an argument.
    client.save_op_bytes(Op("op"), newest, b"bytes")
    assert client.get_op_bytes_for_version(Op("op"), later) == b"bytes"
    assert newest.to_version() == Version.parse(str(second))
    assert repr(newest).startswith("<Version, major:")


def test_a_version_is_answered_with_its_first_registered_time(client: S3OpStoreClient) -> None:
    original = cv(b"x", at=3, micro=1)
    client.register_valid_link("down", "op", original)
    again = FakeChariotsVersion(original.major, original.minor, original.patch,
                                datetime(2020, 5, 5))
    client.register_valid_link("down", "op", again)
    assert client.get_all_versions_of_op(Op("op")) == {original}
    assert client.get_validated_links("down", "op") == {original}


def test_names_chariots_produces(client: S3OpStoreClient) -> None:
    """A data source, a nested pipeline's name as an op, dots, Unicode, upper case."""
    nodes = [ChariotsNode("iris data", cv(b"source"), loadable=False),
             ChariotsNode("inner pipe", cv(b"nested"), loadable=False),
             ChariotsNode("Scaler.v2", cv(b"scaler"), data=b"scaler bytes"),
             ChariotsNode("modèle", cv(b"model"), data=b"model bytes")]
    pipeline = ChariotsPipeline("outer pipe ✓", nodes)
    save_pipeline(client, pipeline)
    assert client.pipeline_exists("outer pipe ✓")
    assert client.store.get_pipeline("outer pipe ✓").last_op_name == "modèle"
    assert client.get_all_versions_of_op(Op("inner pipe")) == {nodes[1].version}
    assert client.get_validated_links("Scaler.v2", "inner pipe") == {nodes[1].version}
    assert client.get_all_versions_of_op(Op("scaler.v2")) is None  # case is significant
    assert sorted(client.store.list_ops()) == sorted(n.name for n in nodes)

    fresh = ChariotsPipeline("outer pipe ✓", [
        ChariotsNode(n.name, n.version, n.loadable) for n in nodes])
    load_pipeline(client, fresh)
    assert [n.loaded for n in fresh.nodes] == [None, None, b"scaler bytes", b"model bytes"]

    retrained = ChariotsNode("modèle", cv(b"model 2", at=9), data=b"model 2 bytes")
    save_pipeline(client, ChariotsPipeline("outer pipe ✓", [*nodes[:3], retrained]))
    newest = ChariotsPipeline("outer pipe ✓",
                              [*nodes[:3], ChariotsNode("modèle", retrained.version)])
    load_pipeline(client, newest)
    assert newest.nodes[3].loaded == b"model 2 bytes"


def test_incompatible_upstream_version_is_refused_like_chariots(client: S3OpStoreClient) -> None:
    nodes = [ChariotsNode("pca", cv(b"pca 1"), data=b"p1"),
             ChariotsNode("model", cv(b"m 1"), data=b"m1")]
    save_pipeline(client, ChariotsPipeline("p", nodes))
    changed = ChariotsPipeline("p", [ChariotsNode("pca", cv(b"pca 2", at=5)),
                                     ChariotsNode("model", nodes[1].version)])
    with pytest.raises(ValueError, match="no validated link from pca to model"):
        load_pipeline(client, changed)


@pytest.mark.parametrize("bad", [object(), None, 42, b"v", "nope", "a.b.c_2020-01-01"])
def test_objects_that_are_not_versions_are_refused(client: S3OpStoreClient, bad: object) -> None:
    for call in (lambda: client.register_valid_link("down", "op", bad),
                 lambda: client.save_op_bytes(Op("op"), bad, b"x"),
                 lambda: client.get_op_bytes_for_version(Op("op"), bad)):
        with pytest.raises(InvalidVersionError, match="is not a version") as info:
            call()
        assert repr(bad)[:20] in str(info.value)
    assert client.store.list_ops() == []


def test_none_answers(client: S3OpStoreClient) -> None:
    assert client.get_all_versions_of_op(Op("never")) is None
    assert client.get_validated_links("a", "b") is None
    client.register_valid_link("down", "up", cv(b"u"))
    assert client.get_all_versions_of_op(Op("down")) is None  # known only downstream
    assert client.pipeline_exists("nope") is False


def test_loads_honour_retirement(client: S3OpStoreClient) -> None:
    """A deprecated version loads with a warning; an archived one is refused unless allowed."""
    version = cv(b"r1")
    client.register_valid_link(None, "model", version)
    client.save_op_bytes(Op("model"), version, b"weights")
    client.store.set_version_status("model", str(version), "deprecated", reason="drifted")
    with pytest.warns(RetiredVersionWarning, match=r"deprecated \(drifted\)"):
        assert client.get_op_bytes_for_version(Op("model"), version) == b"weights"
    client.store.set_version_status("model", str(version), "archived")
    with pytest.raises(RetiredVersionError, match="is archived"):
        client.get_op_bytes_for_version(Op("model"), version)
    allowing = S3OpStoreClient(client.store, allow_archived=True)
    with pytest.warns(RetiredVersionWarning, match="is archived"):
        assert allowing.get_op_bytes_for_version(Op("model"), version) == b"weights"


def test_save_requires_registration(client: S3OpStoreClient) -> None:
    with pytest.raises(OpNotFoundError):
        client.save_op_bytes(Op("ghost"), cv(b"g"), b"x")
    client.register_valid_link(None, "ghost", cv(b"g"))
    with pytest.raises(VersionNotFoundError):
        client.save_op_bytes(Op("ghost"), cv(b"other"), b"x")


def test_numbering_over_successive_versions(client: S3OpStoreClient) -> None:
    steps = [Version.from_parts(a, b, c, creation_time=datetime(2019, 10, 8, 12, 0, i))
             for i, (a, b, c) in enumerate(tuple(parts) for parts in [
                 "a  ", "ab ", "abc", "abd", "ebd", "efd", "efg"])]
    for step in steps:
        client.register_valid_link("down", "op", str(step))  # strings are versions too
    numbers = [r.number for r in client.store.get_versions("op")]
    assert numbers == [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2), (2, 0, 0), (2, 1, 0),
                       (2, 1, 1)]
    expected = {FakeChariotsVersion.parse(str(step)) for step in steps}
    assert client.get_all_versions_of_op(Op("op")) == expected
    assert client.get_validated_links("down", "op") == expected


def test_duplicates_are_not_created(client: S3OpStoreClient) -> None:
    pipeline = ChariotsPipeline("p", [ChariotsNode("a", cv(b"x")), ChariotsNode("b", cv(b"y"))])
    for _ in range(3):
        client.register_new_pipeline(pipeline)
        client.register_valid_link("b", "a", cv(b"x"))
    assert client.store.list_pipelines() == ["p"]
    assert len(client.store.get_versions("a")) == 1
    assert client.get_validated_links("b", "a") == {cv(b"x")}


def test_pipeline_without_an_end(client: S3OpStoreClient) -> None:
    class Broken:
        name = "broken"

        def get_all_op_links(self) -> list[tuple[Op, Op]]:
            return [(Op("a"), Op("b"))]

    with pytest.raises(InvalidInputError, match="broken"):
        client.register_new_pipeline(Broken())


# -- which Version class comes back ------------------------------------------------------
def test_chariots_own_version_is_returned_when_importable(
        opstore: OpStore, monkeypatch: pytest.MonkeyPatch) -> None:
    package = types.ModuleType("chariots")
    versioning = types.ModuleType("chariots.versioning")
    versioning.Version = FakeChariotsVersion  # type: ignore[attr-defined]
    package.versioning = versioning  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chariots", package)
    monkeypatch.setitem(sys.modules, "chariots.versioning", versioning)
    assert chariots_version_class() is FakeChariotsVersion
    client = S3OpStoreClient(opstore)
    version = cv(b"theirs", micro=12)
    client.register_valid_link("down", "op", version)
    returned = client.get_all_versions_of_op(Op("op"))
    assert returned == {version}
    assert returned is not None and all(type(v) is FakeChariotsVersion for v in returned)


@pytest.mark.parametrize("init", [
    "from chariots import base  # the PyPI 0.2.4 wheel does not ship this module\n",
    "import collections\nclass D(collections.MutableMapping): pass  # the targeted commit\n",
])
def test_a_broken_chariots_install_falls_back_to_the_stand_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, init: str) -> None:
    (tmp_path / "chariots").mkdir()
    (tmp_path / "chariots" / "__init__.py").write_text(init)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "chariots", raising=False)
    monkeypatch.delitem(sys.modules, "chariots.versioning", raising=False)
    assert chariots_version_class() is ChariotsVersion
