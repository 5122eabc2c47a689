"""get_op_bytes_for_version answers through the registry: same verification, same trash fallback."""

from __future__ import annotations

import base64

import orjson

from s3opstore import OpStore, Version
from s3opstore.api import handle
from s3opstore.api.types import ApiRequest
from s3opstore.models.keys import trash_key
from s3opstore.stores import MemoryStore


def _get(store: OpStore, version: Version) -> tuple[int, dict[str, object]]:
    body = orjson.dumps({"desired_op_name": "op", "version": str(version)})
    response = handle(ApiRequest("POST", "/v1/get_op_bytes_for_version", {}, body), store)
    return response.status, orjson.loads(response.body)


def test_a_blob_gc_set_aside_is_still_served_and_damage_is_refused() -> None:
    store = OpStore(MemoryStore())
    version = Version.from_parts(major="a")
    store.register_version("op", version)
    saved = store.save_op_bytes("op", version, b"weights")
    # A gc that raced a writer left the blob in the trash (design.md, D12).
    store.store.copy(saved.key, trash_key("op", saved.sha256, "ab" * 16))
    store.store.delete(saved.key)
    status, body = _get(store, version)
    assert status == 200 and base64.b64decode(str(body["bytes"])) == b"weights"

    store.store.put(saved.key, b"weightz")  # damaged in place
    status, body = _get(store, version)
    assert status == 500 and body["error"]["type"] == "integrity"  # type: ignore[index]
