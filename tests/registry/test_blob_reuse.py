"""Reusing a large blob on proof: multipart uploads carry CRC32 part checksums (D11).

A re-save of identical large bytes must not upload again when S3 vouches, with
the composite CRC32 it verified part by part, for exactly these bytes; and must
upload again (repairing the blob) when the object at the content address holds
anything else, however its size and checksum type look.
"""

from __future__ import annotations

import io
import os
import uuid
import zlib
from collections import Counter
from typing import Any

import pytest

from s3opstore import OpStore, Version
from s3opstore.models.keys import blob_key
from s3opstore.registry.blob_source import _prepared, proves_content
from s3opstore.stores.base import BLOB_PART_SIZE, ObjectInfo
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import SeaweedFS

SIZE = 2 * BLOB_PART_SIZE + 12345  # three parts, the last a short one
OP = "model"


def _composite_crc32(data: bytes) -> str:
    """S3's composite CRC32, computed independently of the library's code."""
    parts = [data[i:i + BLOB_PART_SIZE] for i in range(0, len(data), BLOB_PART_SIZE)]
    joined = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    return f"{zlib.crc32(joined):08x}-{len(parts)}"


def test_a_composite_crc32_proves_only_the_bytes_it_was_computed_from() -> None:
    data = os.urandom(SIZE)
    other = bytearray(data)
    other[BLOB_PART_SIZE + 7] ^= 1
    with _prepared(data) as source:
        sha, composite = source.digests.sha256, source.composite
        assert composite("crc32") == _composite_crc32(data)

        def info(crc32: str | None) -> ObjectInfo:
            return ObjectInfo("k", SIZE, '"etag-3"', None, crc32=crc32)

        assert proves_content(info(_composite_crc32(data)), sha, SIZE, composite=composite)
        assert not proves_content(info(_composite_crc32(bytes(other))), sha, SIZE,
                                  composite=composite)
        # without our bytes to recompute from (a presigned-upload commit), no proof
        assert not proves_content(info(_composite_crc32(data)), sha, SIZE)
        # a whole-object CRC32 (someone's single PUT) is not the content address's proof
        assert not proves_content(info(f"{zlib.crc32(data):08x}"), sha, SIZE,
                                  composite=composite)


@pytest.fixture
def store(seaweed: SeaweedFS) -> S3Store:
    """The default transfer settings: 16 MiB parts, as a real deployment uploads them."""
    return S3Store(seaweed.new_bucket("reuse"), f"r/{uuid.uuid4().hex[:8]}",
                   client=seaweed.client())


def _uploads(store: S3Store) -> Counter[str]:
    sent: Counter[str] = Counter()

    def count(event_name: str = "", **_: Any) -> None:
        sent[event_name.rsplit(".", 1)[-1]] += 1

    for name in ("PutObject", "UploadPart", "CreateMultipartUpload"):
        store.client.meta.events.register(f"before-send.s3.{name}", count)
    return sent


FIRST, SECOND = Version.from_parts(b"a", b"1"), Version.from_parts(b"b", b"2")


def _registered(store: S3Store) -> OpStore:
    ops = OpStore(store)
    ops.register_version(OP, FIRST)
    ops.register_version(OP, SECOND)
    return ops


def test_an_identical_large_resave_is_proven_and_not_uploaded(store: S3Store) -> None:
    data, ops, first, second = os.urandom(SIZE), _registered(store), FIRST, SECOND
    saved = ops.save_op_bytes(OP, first, data)
    info = store.head(blob_key(OP, saved.sha256))
    assert info is not None
    assert info.crc32 == _composite_crc32(data)  # CRC32 on every part, verified by S3
    assert info.sha256 is None

    sent = _uploads(store)
    ops.save_op_bytes(OP, second, data)
    assert sent["UploadPart"] == 0 and sent["CreateMultipartUpload"] == 0
    assert ops.load_op_bytes(OP, second) == data


def test_other_bytes_at_the_address_are_written_over(store: S3Store) -> None:
    """Same size, same part count, a valid checksum S3 verified: still not these bytes."""
    data, ops, version, again = os.urandom(SIZE), _registered(store), FIRST, SECOND
    key = blob_key(OP, ops.save_op_bytes(OP, version, data).sha256)
    planted = os.urandom(SIZE)
    store.upload(key, io.BytesIO(planted), size=SIZE)
    assert store.get(key).data == planted

    sent = _uploads(store)
    ops.save_op_bytes(OP, again, data)
    assert sent["UploadPart"] == 3  # the proof failed: the genuine bytes went up again
    assert store.get(key).data == data
    assert ops.load_op_bytes(OP, version) == data
