"""Names Chariots produces, over real HTTP, through the in-process server.

The client below is what Chariots' ``OpStoreClient`` does on the wire (post
JSON, require 200, parse version strings with its own ``Version.parse``,
falsy answer -> None); the pipeline is saved and loaded the way Chariots'
``Pipeline.save`` / ``Pipeline.load`` call it. Names travel in JSON bodies,
so spaces, dots, slashes and Unicode reach the registry as they are.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from s3opstore.api.server import make_server
from s3opstore.models.names import encode_name
from s3opstore.registry.opstore import OpStore
from tests.compat_support import (
    ChariotsNode,
    ChariotsPipeline,
    FakeChariotsVersion,
    Op,
    cv,
    load_pipeline,
    save_pipeline,
)
from tests.conftest import make_store


class HttpChariotsClient:
    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, route: str, body: dict[str, Any]) -> Any:
        response = requests.post(f"{self.url}/v1/{route}", data=json.dumps(body),
                                 headers={"Content-Type": "application/json"}, timeout=30)
        if response.status_code != 200:
            raise ValueError(f"{route}: {response.status_code} {response.text}")
        return response.json()

    def get_all_versions_of_op(self, op: Op) -> set[FakeChariotsVersion] | None:
        answer = self._post("get_all_versions_of_op", {"desired_op_name": op.name})
        return {FakeChariotsVersion.parse(v) for v in answer["all_versions"]} if answer else None

    def get_validated_links(self, downstream: str,
                            upstream: str) -> set[FakeChariotsVersion] | None:
        answer = self._post("get_validated_links", {"downstream_op_name": downstream,
                                                    "upstream_op_name": upstream})
        return ({FakeChariotsVersion.parse(v) for v in answer["upstream_versions"]}
                if answer else None)

    def get_op_bytes_for_version(self, op: Op, version: Any) -> bytes:
        answer = self._post("get_op_bytes_for_version",
                            {"desired_op_name": op.name, "version": str(version)})
        return base64.b64decode(answer["bytes"].encode("utf-8"))

    def save_op_bytes(self, op: Op, version: Any, op_bytes: bytes) -> None:
        self._post("save_op_bytes", {"op_name": op.name, "version": str(version),
                                     "bytes": base64.b64encode(op_bytes).decode("utf-8")})

    def register_valid_link(self, downstream: str | None, upstream: str, version: Any) -> None:
        self._post("register_valid_link", {"downstream_op_name": downstream,
                                           "upstream_op_name": upstream,
                                           "upstream_op_version": str(version)})

    def pipeline_exists(self, name: str) -> bool:
        return bool(self._post("pipeline_exists", {"pipeline_name": name})["exists"])

    def register_new_pipeline(self, pipeline: ChariotsPipeline) -> None:
        for upstream, downstream in pipeline.get_all_op_links():
            if downstream is None:
                self._post("register_new_pipeline", {"pipeline_name": pipeline.name,
                                                     "last_op_name": upstream.name})
                return


@pytest.fixture(params=["local", "seaweedfs"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, OpStore]]:
    store = OpStore(make_store(str(request.param), request, tmp_path))
    server = make_server(store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


NAMES = ["iris data", "inner pipe", "Scaler.v2", "scaler.v2", "modèle ✓", "cafe\u0301",
         "café", "../../etc/passwd"]


def test_chariots_names_over_http(served: tuple[str, OpStore]) -> None:
    url, store = served
    client = HttpChariotsClient(url)
    nodes = [ChariotsNode("iris data", cv(b"source"), loadable=False),
             ChariotsNode("inner pipe", cv(b"nested"), loadable=False),
             *[ChariotsNode(name, cv(name.encode(), at=2 + i), data=name.encode())
               for i, name in enumerate(NAMES[2:])]]
    pipeline = ChariotsPipeline("outer pipe ✓", nodes)
    save_pipeline(client, pipeline)
    assert client.pipeline_exists("outer pipe ✓")
    assert not client.pipeline_exists("outer pipe")

    fresh = ChariotsPipeline("outer pipe ✓", [ChariotsNode(n.name, n.version, n.loadable)
                                              for n in nodes])
    load_pipeline(client, fresh)
    assert [n.loaded for n in fresh.nodes] == [None, None, *[n.encode() for n in NAMES[2:]]]
    for node in nodes:  # each name has only its own version: no case or Unicode merge
        assert client.get_all_versions_of_op(Op(node.name)) == {node.version}
    assert client.get_validated_links("inner pipe", "iris data") == {nodes[0].version}

    listed = requests.post(f"{url}/v1/list_ops", data="{}", timeout=30).json()["ops"]
    assert sorted(listed) == sorted(NAMES)
    keys = [info.key for info in store.store.list("")]
    # an op's history sits one level deeper (events/op/<op>/, events/links/<op>/<vid>/),
    # the store's has no name
    named = [key.split("/")[2] if key.startswith("events/") else key.split("/")[1]
             for key in keys if not key.startswith("events/store/")]
    assert any(key.startswith("events/links/") for key in keys)
    assert all(segment in {encode_name(n) for n in NAMES} | {encode_name(
        "outer pipe ✓") + ".json", "probe", "format.json"} for segment in named), keys


@pytest.mark.parametrize("bad", ["", "a\nb", "nul\x00", "x" * 201])
def test_names_that_cannot_be_names_are_a_400_over_http(served: tuple[str, OpStore],
                                                        bad: str) -> None:
    url, store = served
    response = requests.post(f"{url}/v1/register_valid_link", timeout=30, json={
        "downstream_op_name": None, "upstream_op_name": bad,
        "upstream_op_version": str(cv(b"v"))})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_name" and "upstream_op_name" in error["message"]
    assert list(store.store.list("ops/")) == []
