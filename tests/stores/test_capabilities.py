"""Optional capabilities are found through any wrapper, and only where they exist."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from s3opstore.stores.capabilities import Presigner, RequestHooks, layers, presigner, request_hooks
from s3opstore.stores.local import LocalStore
from s3opstore.stores.local_scratch import scratch_owner
from s3opstore.stores.memory import MemoryStore
from s3opstore.stores.s3 import S3Store
from s3opstore.stores.wrappers import CountingStore, FaultyStore
from s3opstore.testing.faults import FaultInjector


def test_s3_presigns_and_hooks_requests_through_wrappers(moto_client: Any) -> None:
    backend = S3Store("mock-bucket", f"cap/{uuid.uuid4().hex[:8]}", client=moto_client)
    assert isinstance(backend, Presigner) and isinstance(backend, RequestHooks)
    wrapped = CountingStore(FaultyStore(backend))
    assert list(layers(wrapped))[-1] is backend
    assert presigner(wrapped) is backend and request_hooks(wrapped) is backend
    assert "X-Amz-Signature=" in presigner(wrapped).presign(  # type: ignore[union-attr]
        "ops/op/blobs/x", "GET", 60)

    sent: list[int] = []
    hooks = request_hooks(wrapped)
    assert hooks is not None
    hooks.add_request_hook(lambda: sent.append(1), unique_id="test")
    hooks.add_request_hook(lambda: sent.append(1), unique_id="test")  # once per id
    wrapped.put("k", b"v")
    assert wrapped.get("k").data == b"v"
    assert len(sent) == 2


def test_stores_without_a_capability_answer_none(tmp_path: Path) -> None:
    memory = CountingStore(MemoryStore())
    assert presigner(memory) is None and request_hooks(memory) is None
    assert scratch_owner(memory) is None
    local = LocalStore(tmp_path / "store")
    assert presigner(local) is None and request_hooks(local) is None
    assert scratch_owner(FaultInjector(CountingStore(local))) is local
