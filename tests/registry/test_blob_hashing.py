"""The save path's hash pass: digests are right whatever the source, MD5 only where it can prove."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from s3opstore.errors import InvalidInputError
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


class _Pipe:
    """An unseekable stream (an HTTP body, a pipe) that answers short reads of varying
    length."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self._sizes = iter(range(1, 10**9))

    def read(self, size: int = -1) -> bytes:
        short = max(1, min(size if size > 0 else 1 << 20,
                           (next(self._sizes) * 7919) % (3 << 20)))
        return self._data.read(short)

    def seekable(self) -> bool:
        return False


@pytest.mark.parametrize("size", [0, MD5_LIMIT - 1, MD5_LIMIT + 1, 3 * MD5_LIMIT + 12345])
def test_a_pipe_of_short_reads_is_spooled_byte_for_byte(size: int) -> None:
    data = (os.urandom(1 << 16) * (-(-size // (1 << 16))))[:size]
    with _prepared(_Pipe(data)) as source:  # type: ignore[arg-type]
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == _expected(
            data, md5=size <= MD5_LIMIT)
        assert source.rewind().read() == data


class _Texty(_Pipe):
    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        return chunk.decode("latin-1") if self._data.tell() > MD5_LIMIT + (2 << 20) else chunk  # type: ignore[return-value]


def test_a_stream_turning_to_text_past_the_spool_size_is_refused() -> None:
    stream = _Texty(b"t" * (MD5_LIMIT + (5 << 20)))
    with pytest.raises(InvalidInputError, match="must yield bytes"), _prepared(
            stream):  # type: ignore[arg-type]
        pass


class _NonBlocking(_Pipe):
    """A non-blocking stream that has nothing ready after ``ready`` bytes."""

    def __init__(self, data: bytes, ready: int) -> None:
        super().__init__(data)
        self._ready = ready

    def read(self, size: int = -1) -> bytes | None:  # type: ignore[override]
        return None if self._data.tell() >= self._ready else super().read(size)


@pytest.mark.parametrize("ready", [0, 3 << 20, MD5_LIMIT + (3 << 20)])
def test_a_stream_with_no_bytes_ready_is_refused_not_saved_cut_short(ready: int) -> None:
    stream = _NonBlocking(b"n" * (MD5_LIMIT + (8 << 20)), ready)
    with pytest.raises(InvalidInputError, match="non-blocking"), _prepared(
            stream):  # type: ignore[arg-type]
        pass


@pytest.mark.parametrize("size", [0, 5, MD5_LIMIT, MD5_LIMIT + 5])
def test_unseekable_stream_is_spooled_and_hashed(size: int) -> None:
    data = b"s" * size
    with _prepared(_Unseekable(data)) as source:  # type: ignore[arg-type]
        assert (source.digests.sha256, source.digests.md5, source.digests.size) == _expected(
            data, md5=size <= MD5_LIMIT)
        assert source.rewind().read() == data


def test_a_spool_past_16_mib_goes_to_tmpdir(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """README: point TMPDIR at a faster disk (or a tmpfs) to spool there."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # Python caches the first answer
    data = b"d" * (MD5_LIMIT + 5)
    with _prepared(_Unseekable(data)) as source:  # type: ignore[arg-type]
        fd = source.stream.fileno()  # rolled over to a file past the in-memory 16 MiB
        assert os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path))
        assert source.rewind().read() == data
