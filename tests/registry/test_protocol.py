"""The commit protocol's hard cases: lost responses, retries that see our own write,
stores that ignore conditions, and outcomes that cannot be known."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import urllib3
from botocore.awsrequest import AWSResponse, HTTPHeaders

from s3opstore import OpStore, Version
from s3opstore.errors import (
    ConcurrentWriteError,
    OutcomeUnknownError,
    PreconditionFailedError,
    StorageUnavailableError,
    UnsafeStoreError,
)
from s3opstore.registry.commit import RetryPolicy
from s3opstore.stores import MemoryStore
from s3opstore.stores.base import GetResult, PutMode
from s3opstore.stores.s3 import S3Store
from s3opstore.stores.wrappers import Fault, FaultyStore
from tests.conftest import _session_bucket

FAST = RetryPolicy(max_attempts=8, base_delay=0.0, max_delay=0.0)


def v(name: str) -> Version:
    return Version.from_parts(major=name, creation_time=datetime(2020, 1, 1))


@pytest.mark.parametrize("key_part", ["head.json", "/versions/", "links/", "pipelines/",
                                      "/bytes/", "aliases/"])
def test_a_lost_response_is_recognised_as_our_own_write(key_part: str) -> None:
    store = FaultyStore(MemoryStore())
    opstore = OpStore(store, retry=FAST)
    opstore.register_version("op", v("a"))
    store.faults.append(Fault("put", nth=1, kind="ambiguous", key_part=key_part))
    opstore.register_version("op", v("b"))
    opstore.register_valid_link("down", "op", v("b"))
    opstore.register_pipeline("pipe", "down")
    opstore.save_op_bytes("op", v("b"), b"bytes")
    opstore.set_alias("op", "prod", v("b"))
    assert store.faults[0].fired == 1
    # Applied exactly once each:
    assert [r.number for r in opstore.get_versions("op")] == [(1, 0, 0), (2, 0, 0)]
    assert opstore.get_validated_links("down", "op") == {v("b")}
    assert opstore.load_op_bytes("op", v("b")) == b"bytes"
    assert len(opstore.alias_history("op", "prod")) == 1
    assert len(list(store.inner.list("ops/op/bytes/"))) == 1


def test_conflict_409_is_retried() -> None:
    store = FaultyStore(MemoryStore())
    store.faults.append(Fault("put", nth=1, kind="error", key_part="head.json",
                              exc=ConcurrentWriteError("ops/op/head.json")))
    record = OpStore(store, retry=FAST).register_version("op", v("a"))
    assert record.number == (1, 0, 0) and store.faults[0].fired == 1


class _BlindStore(MemoryStore):
    """Accepts every conditional write: what some S3-compatible servers do."""

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        return super().put(key, data, mode="overwrite")


def test_a_store_that_ignores_conditions_is_refused() -> None:
    store = _BlindStore()
    with pytest.raises(UnsafeStoreError, match="single_writer"):
        OpStore(store).register_version("op", v("a"))
    assert [k.key for k in store.list("ops/")] == []
    # The user may opt in to single-writer mode explicitly.
    assert OpStore(store, single_writer=True).register_version("op", v("a")).seq == 0


def test_the_probe_runs_once_per_store() -> None:
    store = FaultyStore(MemoryStore())
    opstore = OpStore(store)
    opstore.register_version("op", v("a"))
    probes = store.counts["put"]
    opstore.register_version("op", v("b"))
    OpStore(store).register_version("op", v("c"))
    assert probes >= 3  # probe create, second create, stale If-Match, head create
    # no probe again: "b" is the head's CAS alone (nothing leaves the head yet), "c" drops
    # "a" from the head, so stores a's event and entry first (design.md, D2 and D16)
    assert store.counts["put"] - probes == 4


class _ReadsFailAfterLostWrite(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        etag = super().put(key, data, mode=mode)
        if key.endswith("head.json"):
            self.broken = True
            raise StorageUnavailableError("response lost", maybe_applied=True)
        return etag

    def get(self, key: str) -> GetResult:
        if self.broken:
            raise StorageUnavailableError("still down")
        return super().get(key)


def test_unknown_outcome_is_reported_not_guessed() -> None:
    store = _ReadsFailAfterLostWrite()
    with pytest.raises(OutcomeUnknownError, match="head.json"):
        OpStore(store, retry=FAST).register_version("op", v("a"))
    store.broken = False
    # Retrying the same call is safe and converges on one record.
    opstore = OpStore(store, retry=FAST)
    assert opstore.register_version("op", v("a")).seq == 0
    assert len(opstore.get_versions("op")) == 1


class _AlwaysBeaten(MemoryStore):
    """Every head write loses to a (phantom) concurrent writer."""

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        if key.endswith("head.json"):
            raise PreconditionFailedError(key)
        return super().put(key, data, mode=mode)


def test_exhausted_retries_raise_conflict() -> None:
    from s3opstore.errors import ConflictError

    store = _AlwaysBeaten()
    with pytest.raises(ConflictError, match="head.json"):
        OpStore(store, retry=FAST).register_version("op", v("a"))
    assert [k.key for k in store.list("ops/")] == []


class _LoseFirstResponse:
    """botocore hook: send the first matching PUT for real, then pretend it failed (500).

    botocore's own retry then sends it again and gets 412: the trap in which a
    successful write comes back as a conflict.
    """

    def __init__(self, key_part: str) -> None:
        self.key_part = key_part
        self.fired = 0
        self.http = urllib3.PoolManager()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.fired or request.method != "PUT" or self.key_part not in request.url:
            return None
        self.fired += 1
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        if hasattr(request.body, "seek"):
            request.body.seek(0)
        real = self.http.request("PUT", request.url, body=body, headers=dict(request.headers))
        assert real.status == 200, real.data
        error = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
                 b"<Message>injected: response lost</Message></Error>")
        raw = urllib3.HTTPResponse(body=io.BytesIO(error), status=500,
                                   headers={"Content-Type": "application/xml"},
                                   preload_content=False)
        return AWSResponse(request.url, 500,
                           HTTPHeaders.from_dict({"Content-Type": "application/xml"}), raw)


@pytest.mark.parametrize("server_fixture", ["seaweed", "moto_server"])
@pytest.mark.parametrize("key_part", ["head.json", "/links/", "/pipelines/"])
def test_botocore_retry_of_a_landed_write_is_ours(server_fixture: str, key_part: str,
                                                  request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue(server_fixture)
    client = server.client()
    opstore = OpStore(S3Store(_session_bucket(server), f"lost/{uuid.uuid4().hex[:8]}",
                              client=client))
    opstore.register_version("op", v("a"))
    hook = _LoseFirstResponse(key_part)
    client.meta.events.register_first("before-send.s3.PutObject", hook)
    opstore.register_version("op", v("b"))
    opstore.register_valid_link("down", "op", v("b"))
    opstore.register_pipeline("pipe", "down")
    assert hook.fired == 1
    assert [r.number for r in opstore.get_versions("op")] == [(1, 0, 0), (2, 0, 0)]
    assert opstore.get_validated_links("down", "op") == {v("b")}
    assert opstore.pipeline_exists("pipe")


def test_waits_and_writes_have_separate_budgets() -> None:
    """A writer that lets others commit for it (``Again``) is not closer to giving up,
    and one that only ever waits still gives up."""
    from s3opstore.errors import ConflictError
    from s3opstore.models.manifests import StoreFormat
    from s3opstore.registry.commit import Again, Committer, Put

    store = _AlwaysBeaten()
    committer = Committer(store, FAST, lambda: None)
    tried: list[str] = []

    def alternate(_snapshot: object) -> Again | Put[StoreFormat, str]:
        tried.append("wait" if len(tried) % 2 == 0 else "write")
        if tried[-1] == "wait":
            return Again()
        return Put(StoreFormat(format_version=1, written_by="test", created_at=datetime.now(UTC),
                               token="a" * 32), "done")

    with pytest.raises(ConflictError):
        committer.update("ops/op/head.json", StoreFormat, alternate)
    assert tried.count("write") == FAST.max_attempts

    waited = []

    def always_wait(_snapshot: object) -> Again:
        waited.append(1)
        return Again()

    with pytest.raises(ConflictError):
        committer.update("ops/op/head.json", StoreFormat, always_wait)
    assert len(waited) == FAST.max_attempts + 1
