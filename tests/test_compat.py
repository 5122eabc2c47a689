"""The seed OpStore's behaviour, operation by operation, through S3OpStoreClient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from s3opstore import OpStore, S3OpStoreClient, Version
from s3opstore.errors import InvalidInputError, OpNotFoundError, VersionNotFoundError


@dataclass
class Op:
    name: str


@dataclass
class Node:
    name: str


class Pipeline:
    """Shaped like chariots.Pipeline: links are (upstream_node, downstream_node) pairs."""

    def __init__(self, name: str, chain: list[str]) -> None:
        self.name = name
        self._chain = chain

    def get_all_op_links(self) -> list[tuple[Node, Node | None]]:
        nodes = [Node(n) for n in self._chain]
        return [(up, down) for up, down in zip(nodes, [*nodes[1:], None], strict=True)]


def ver(major: str, minor: str = "", patch: str = "", second: int = 0,
        micro: int = 0) -> Version:
    return Version.from_parts(major=major, minor=minor, patch=patch,
                              creation_time=datetime(2019, 10, 8, 12, 0, second, micro))


@pytest.fixture
def client(opstore: OpStore) -> S3OpStoreClient:
    return S3OpStoreClient(opstore)


def test_chariots_save_then_load_flow(client: S3OpStoreClient) -> None:
    pipeline = Pipeline("train", ["scaler", "model"])
    # Chariots' pipeline server asks, then registers, before any op exists.
    assert client.pipeline_exists("train") is False
    client.register_new_pipeline(pipeline)
    assert client.pipeline_exists("train") is True

    scaler_v, model_v = ver("s1", micro=0), ver("m1", micro=5)
    client.register_valid_link("model", "scaler", scaler_v)
    client.register_valid_link(None, "model", model_v)
    client.save_op_bytes(Op("scaler"), scaler_v, b"scaler-bytes")
    client.save_op_bytes(Op("model"), model_v, b"model-bytes")

    versions = client.get_all_versions_of_op(Op("scaler"))
    assert versions == {scaler_v}
    # byte for byte, including the omitted fraction of a zero-microsecond time
    assert {str(x) for x in versions} == {str(scaler_v)}
    assert str(scaler_v).endswith("2019-10-08 12:00:00")
    assert client.get_validated_links("model", "scaler") == {scaler_v}
    assert client.get_op_bytes_for_version(Op("model"), model_v) == b"model-bytes"


def test_none_answers(client: S3OpStoreClient) -> None:
    assert client.get_all_versions_of_op(Op("never")) is None
    assert client.get_validated_links("a", "b") is None
    client.register_valid_link("down", "up", ver("u"))
    assert client.get_all_versions_of_op(Op("down")) is None  # known only downstream
    assert client.pipeline_exists("nope") is False


def test_save_requires_registration(client: S3OpStoreClient) -> None:
    with pytest.raises(OpNotFoundError):
        client.save_op_bytes(Op("ghost"), ver("g"), b"x")
    client.register_valid_link(None, "ghost", ver("g"))
    with pytest.raises(VersionNotFoundError):
        client.save_op_bytes(Op("ghost"), ver("other"), b"x")


def test_numbering_over_successive_versions(client: S3OpStoreClient) -> None:
    steps = [ver("a"), ver("a", "b"), ver("a", "b", "c"), ver("a", "b", "d"), ver("e", "b", "d"),
             ver("e", "f", "d"), ver("e", "f", "g")]
    for step in steps:
        client.register_valid_link("down", "op", step)
    numbers = [r.number for r in client.store.get_versions("op")]
    assert numbers == [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2), (2, 0, 0), (2, 1, 0),
                       (2, 1, 1)]
    assert client.get_all_versions_of_op(Op("op")) == set(steps)
    assert client.get_validated_links("down", "op") == set(steps)


def test_duplicates_are_not_created(client: S3OpStoreClient) -> None:
    pipeline = Pipeline("p", ["a", "b"])
    for _ in range(3):
        client.register_new_pipeline(pipeline)
        client.register_valid_link("b", "a", ver("x"))
    assert client.store.list_pipelines() == ["p"]
    assert len(client.store.get_versions("a")) == 1
    assert client.get_validated_links("b", "a") == {ver("x")}


def test_pipeline_without_an_end(client: S3OpStoreClient) -> None:
    class Broken:
        name = "broken"

        def get_all_op_links(self) -> list[tuple[Node, Node]]:
            return [(Node("a"), Node("b"))]

    with pytest.raises(InvalidInputError, match="broken"):
        client.register_new_pipeline(Broken())
