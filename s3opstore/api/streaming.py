"""Large seed-route bodies with bounded memory: base64 in JSON, streamed.

Chariots' client moves op bytes as base64 inside JSON (``save_op_bytes`` and
``get_op_bytes_for_version``). Read whole, a 100 MiB model costs the body
(133 MiB), its decoded copy and the parser's copies. Here the request body is
scanned from a binary stream: the small fields are captured (at most
:data:`MAX_FIELD_BYTES` each) and checked by the route's own pydantic model,
while the ``bytes`` string is validated and decoded in aligned slices straight
into a temporary file, which the OpStore then hashes and uploads. Answers go
the other way: the blob is copied (digest verified) to a temporary file and
sent as base64 in slices. Memory per request stays around :data:`CHUNK`.

Only the structure Chariots' bodies have is accepted: one JSON object whose
values are JSON values; the ``bytes`` value must be a string of standard
base64, JSON escapes of its characters included (``\\/``, ``\\u0041``).
"""

from __future__ import annotations

import binascii
import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.errors import InvalidInputError
from s3opstore.registry.opstore import OpStore

__all__ = ["CHUNK", "MAX_FIELD_BYTES", "OpBytesStream", "open_op_bytes", "save_op_bytes_stream"]

CHUNK = 1024 * 1024  # bytes read from the body per step (a multiple of 4)
MAX_FIELD_BYTES = 64 * 1024  # any field other than "bytes"
_B64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_WS = b" \t\r\n"


class _Reader:
    """Bytes of a stream of known length, a chunk at a time, with one position."""

    def __init__(self, source: BinaryIO, length: int) -> None:
        self.source, self.left = source, length
        self.buf, self.pos, self.offset = b"", 0, 0

    def _fill(self) -> bool:
        if self.pos < len(self.buf):
            return True
        if self.left <= 0:
            return False
        data = self.source.read(min(CHUNK, self.left))
        if not data:
            raise InvalidInputError("the request body ended before its Content-Length")
        self.offset += len(self.buf)
        self.left -= len(data)
        self.buf, self.pos = data, 0
        return True

    def bad(self, what: str) -> InvalidInputError:
        return InvalidInputError(f"the body is not valid JSON: {what} at byte "
                                 f"{self.offset + self.pos}")

    def peek(self) -> int | None:
        return self.buf[self.pos] if self._fill() else None

    def next(self) -> int:
        if not self._fill():
            raise self.bad("unexpected end")
        char = self.buf[self.pos]
        self.pos += 1
        return char

    def skip_ws(self) -> None:
        while (char := self.peek()) is not None and char in _WS:
            self.pos += 1

    def expect(self, char: bytes) -> None:
        self.skip_ws()
        if self.next() != char[0]:
            self.pos -= 1
            raise self.bad(f"expected {char.decode()!r}")

    def span(self, stops: bytes) -> tuple[bytes, int | None]:
        """Bytes up to the first of ``stops`` in the current chunk, and that stop."""
        self._fill()
        start = self.pos
        ends = [i for i in (self.buf.find(bytes([s]), start) for s in stops) if i >= 0]
        end = min(ends) if ends else len(self.buf)
        self.pos = end
        if end < len(self.buf):
            self.pos += 1
            return self.buf[start:end], self.buf[end]
        return self.buf[start:end], None


def _small_value(reader: _Reader, field: str) -> Any:
    """One JSON value of at most MAX_FIELD_BYTES, parsed."""
    reader.skip_ws()
    raw = bytearray()
    depth, in_string, escaped = 0, False, False
    while True:
        char = reader.peek()
        if char is None:
            raise reader.bad("unexpected end")
        if not in_string and depth == 0 and raw and char in b",}" + _WS:
            break
        reader.pos += 1
        raw.append(char)
        if len(raw) > MAX_FIELD_BYTES:
            raise InvalidInputError(f"field {field!r} is longer than {MAX_FIELD_BYTES} bytes")
        if in_string:
            if escaped:
                escaped = False
            elif char == 0x5C:
                escaped = True
            elif char == 0x22:
                in_string = False
                if depth == 0:
                    break
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
        elif char in b"]}":
            depth -= 1
            if depth < 0:
                raise reader.bad("unbalanced brackets")
            if depth == 0:
                break
    try:
        return orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise reader.bad(f"malformed value of {field!r}") from None


class _Base64Sink:
    """Decodes standard base64 arriving in pieces into a file."""

    def __init__(self, target: BinaryIO) -> None:
        self.target, self.pending, self.ended, self.size = target, b"", False, 0

    def feed(self, piece: bytes) -> None:
        if not piece:
            return
        if (self.ended and piece.strip(b"=")) or not _B64.fullmatch(piece):
            raise InvalidInputError("bytes is not valid base64")
        data = self.pending + piece
        cut = len(data) - len(data) % 4
        if b"=" in piece:
            self.ended = True
        self._decode(data[:cut])
        self.pending = data[cut:]

    def _decode(self, data: bytes) -> None:
        if not data:
            return
        try:
            decoded = binascii.a2b_base64(data, strict_mode=True)
        except binascii.Error:
            raise InvalidInputError("bytes is not valid base64") from None
        self.target.write(decoded)
        self.size += len(decoded)

    def close(self) -> None:
        if self.pending:
            raise InvalidInputError("bytes is not valid base64 (its length is not a "
                                    "multiple of 4)")


def _escaped(reader: _Reader) -> bytes:
    """The character a JSON escape inside the base64 string stands for (``\\/``, ``\\u0041``)."""
    kind = reader.next()
    if kind == 0x2F:
        return b"/"
    if kind == 0x75:
        digits = bytes(reader.next() for _ in range(4))
        try:
            char = chr(int(digits, 16))
        except ValueError:
            raise reader.bad("bad \\u escape") from None
        if char.isascii():
            return char.encode()  # the sink refuses anything outside the alphabet
    raise InvalidInputError("bytes is not valid base64")


def _stream_bytes(reader: _Reader, sink: _Base64Sink) -> None:
    if reader.next() != 0x22:
        raise InvalidInputError("bytes must be a base64 string")
    while True:
        piece, stop = reader.span(b'"\\')
        sink.feed(piece)
        if stop == 0x22:
            sink.close()
            return
        if stop == 0x5C:
            sink.feed(_escaped(reader))
        elif reader.peek() is None:
            raise reader.bad("unterminated string")


def _parse_to_file(source: BinaryIO, length: int, target: BinaryIO) -> dict[str, Any]:
    reader = _Reader(source, length)
    fields: dict[str, Any] = {}
    reader.expect(b"{")
    reader.skip_ws()
    if reader.peek() == 0x7D:
        reader.pos += 1
    else:
        while True:
            reader.skip_ws()
            key = _small_value(reader, "key")
            if not isinstance(key, str):
                raise reader.bad("expected a string key")
            reader.expect(b":")
            reader.skip_ws()
            if key in fields:
                raise InvalidInputError(f"field {key[:100]!r} appears twice")
            if key == "bytes":
                if reader.peek() == 0x22:
                    _stream_bytes(reader, _Base64Sink(target))
                    fields[key] = ""
                else:
                    fields[key] = _small_value(reader, key)
            else:
                fields[key] = _small_value(reader, key)
            reader.skip_ws()
            char = reader.next()
            if char == 0x7D:
                break
            if char != 0x2C:
                reader.pos -= 1
                raise reader.bad("expected ',' or '}'")
    reader.skip_ws()
    if reader.peek() is not None:
        raise reader.bad("data after the object")
    return fields


def save_op_bytes_stream(store: OpStore, source: BinaryIO, length: int, call: Call) -> m.Empty:
    """``save_op_bytes`` for a body read from ``source``; memory bounded by CHUNK."""
    fd, path = tempfile.mkstemp(prefix="s3opstore-body-")
    try:
        with os.fdopen(fd, "wb") as target:
            fields = _parse_to_file(source, length, target)
        # The model checks names, version, missing and unknown fields exactly as for a
        # small body; the streamed bytes stand in as "" (valid base64 of nothing).
        req = m.SaveOpBytesRequest.model_validate_json(json.dumps(fields), strict=True)
        store.save_op_bytes(req.op_name, req.version, path,
                            idempotency_key=call.idempotency_key)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return m.Empty()


class OpBytesStream:
    """An answer of ``get_op_bytes_for_version`` sent in slices from a temporary file."""

    def __init__(self, head: bytes, file: BinaryIO, size: int, tail: bytes) -> None:
        self.head, self.file, self.size, self.tail = head, file, size, tail
        self.length = len(head) + 4 * ((size + 2) // 3) + len(tail)

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield self.head
            while raw := self.file.read(3 * CHUNK // 4):
                yield binascii.b2a_base64(raw, newline=False)
            yield self.tail
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


def open_op_bytes(store: OpStore, req: m.GetOpBytesForVersionRequest) -> OpBytesStream:
    """The bytes of a version copied, digest verified, to a spooled file, ready to send.

    Up to :data:`CHUNK` stays in memory; larger blobs spill to a temporary file.
    """
    file: Any = tempfile.SpooledTemporaryFile(max_size=CHUNK, prefix="s3opstore-answer-")  # noqa: SIM115 - closed by the stream
    try:
        store.load_op_bytes_to(req.desired_op_name, req.version, file)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    head = (b'{"op_name":' + orjson.dumps(req.desired_op_name) + b',"op_version":'
            + orjson.dumps(str(req.version)) + b',"bytes":"')
    return OpBytesStream(head, file, size, b'"}')
