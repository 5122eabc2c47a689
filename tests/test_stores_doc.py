"""docs/stores.md quotes the capability probe's refusal as the code words it."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import UnsafeStoreError
from s3opstore.stores.base import PutMode
from s3opstore.stores.memory import MemoryStore


class _BlindStore(MemoryStore):
    """Accepts every conditional write, as a store that ignores the headers would."""

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        return super().put(key, data, mode="overwrite")


def test_the_documented_probe_refusal_is_the_real_one() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "stores.md").read_text()
    block = doc.split("```\n", 2)[1].split("\n```", 1)[0]
    store = _BlindStore()
    with pytest.raises(UnsafeStoreError) as info:
        OpStore(store).register_version("op", Version.from_parts(b"a"))
    message = info.value.message.replace(store.url, "s3://bucket/prefix")
    assert " ".join(block.split()) == f"error [{info.value.kind}]: {message}"
