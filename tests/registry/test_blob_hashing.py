"""The save path's hash pass: digests are right whatever the source, MD5 only where it can prove."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from s3opstore.registry.blob_source import MD5_LIMIT, _prepared


def _expected(data: bytes, *, md5: bool) -> tuple[str, str | None, int]:
    return (hashlib.sha256(data).hexdigest(),
            hashlib.md5(data, usedforsecurity=False).hexdigest() if md5 else None, len(data))


@pytest.mark.parametrize("size", [0, 1, 3 * 1024 * 1024 + 7, MD5_LIMIT, MD5_LIMIT + 1])
def test_path_and_seekable_stream_digests(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "blob"
    path.write_bytes(data)
    want = _expected(data, md5=size <= MD5_LIMIT)
    with _prepared(path) as source:
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == want
        assert source.rewind().read() == data
    with open(path, "rb") as fh, _prepared(fh) as source:
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == want
    buffer = io.BytesIO(b"head" + data)
    buffer.seek(4)
    with _prepared(buffer) as source:
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == want
        assert source.rewind().read() == data  # back to where the caller handed it over


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


@pytest.mark.parametrize("size", [0, 5, MD5_LIMIT, MD5_LIMIT + 5])
def test_unseekable_stream_is_spooled_and_hashed(size: int) -> None:
    data = b"s" * size
    with _prepared(_Unseekable(data)) as source:  # type: ignore[arg-type]
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == _expected(
            data, md5=size <= MD5_LIMIT)
        assert source.rewind().read() == data
