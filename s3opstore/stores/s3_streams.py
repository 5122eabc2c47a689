"""The stream adapters the S3 backend hands to s3transfer (no botocore here).

s3transfer closes the file object it uploaded and writes downloads either at
offsets (a seekable file at position 0) or in order; these wrappers keep the
caller's stream open for a re-upload and count what an in-order download wrote.
"""

from __future__ import annotations

from typing import Any, BinaryIO

__all__ = ["CountingSink", "Unclosable", "at_start"]


def at_start(sink: BinaryIO) -> bool:
    try:
        return bool(sink.seekable()) and sink.tell() == 0
    except (AttributeError, OSError, ValueError):
        return False


class Unclosable:
    """The caller's stream, minus ``close``: s3transfer closes what it uploaded, and the
    blob layer may need the same stream again (a re-upload after a gc race)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def close(self) -> None:
        pass


class CountingSink:
    """Pass-through writer that counts bytes; s3transfer writes in order to non-seekables."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self.written = 0

    def write(self, data: bytes) -> int:
        self._sink.write(data)
        self.written += len(data)
        return len(data)
