"""``push`` and ``pull``: streaming op bytes between a file and the store.

Both go through ``OpStore.save_op_bytes`` / ``load_op_bytes_to`` with a file
object, so memory stays bounded and the digest is verified by the registry.
On a terminal the file object is wrapped so that every read or write moves a
byte progress bar: a push reads its file twice (hash, then upload) and the
bar says which pass it is in; a pull writes through a temporary file that is
renamed into place only after the digest matched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from s3opstore.cli.browse import op_and_ref
from s3opstore.cli.output import Output, Progress
from s3opstore.errors import InvalidInputError
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.retire import RetiredVersionWarning

__all__ = ["default_name", "output_path", "pull", "push"]


class _ReadProgress:
    """A seekable reader that reports its position; a seek back to 0 starts a new pass."""

    def __init__(self, inner: BinaryIO, bar: Progress, size: int) -> None:
        self._inner = inner
        self._bar = bar
        self._size = size
        self._pass = 1
        self._reported = 0
        self.name = getattr(inner, "name", "stream")

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self._report()
        return data

    def _report(self) -> None:
        position = self._inner.tell()
        if position != self._reported:
            self._reported = position
            self._bar.update(completed=position)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._inner.seek(offset, whence)
        if position == 0 and self._reported:
            self._pass += 1
            self._reported = 0
            self._bar.update(completed=0, description="uploading")
        return position

    def tell(self) -> int:
        return self._inner.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        # Hide the descriptor: readers must come through read() so the bar moves.
        raise OSError("no file descriptor")


class _WriteProgress:
    def __init__(self, inner: BinaryIO, bar: Progress) -> None:
        self._inner = inner
        self._bar = bar

    def write(self, data: bytes) -> int:
        written = self._inner.write(data)
        self._bar.update(advance=len(data))
        return written

    def flush(self) -> None:
        self._inner.flush()


def push(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInputError(f"no file at {str(path)!r} to push")
    if args.register:
        store.register_version(args.op, args.version)
    record = store.get_version(args.op, args.version)
    size = path.stat().st_size
    with open(path, "rb") as fh, out.progress("hashing", size, transfer=True) as bar:
        source: Any = _ReadProgress(fh, bar, size) if out.progress_enabled() else fh
        saved = store.save_op_bytes(args.op, record.version, source,
                                    idempotency_key=args.idempotency_key)
    result = {"op": args.op, "version": str(saved.version), "number": record.number_text,
              "sha256": saved.sha256, "size": saved.size, "key": saved.key,
              "signed_by": saved.signer}
    if out.json_mode:
        out.json(result)
    else:
        out.line(f"pushed {path} to {args.op} {record.number_text} "
                 f"({saved.size} bytes, sha256 {saved.sha256}, {_signed(saved.signer)})")
    return 0


def pull(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    if args.version is not None and args.alias is not None:
        raise InvalidInputError("use either --version or --alias, not both")
    args.op, ref = op_and_ref(args.op, args.version or args.alias)
    record = store.resolve(args.op, ref)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RetiredVersionWarning)
        store.check_loadable(args.op, record.version, allow_archived=args.allow_archived)
    for warning in caught:
        out.note(f"warning: {warning.message}")
    info = store.op_bytes_info(args.op, record.version)
    to_stdout = args.output == "-"
    if not to_stdout:
        args.output = str(output_path(args.output, args.op, record.number_text))
    with out.progress("downloading", info.size, transfer=True) as bar:
        if to_stdout:
            sink: Any = sys.stdout.buffer
            if out.progress_enabled():
                sink = _WriteProgress(sink, bar)
            loaded = store.load_op_bytes_to(args.op, record.version, sink)
            sys.stdout.buffer.flush()
        else:
            target = Path(args.output)
            loaded = _pull_to_path(store, args.op, record.version, target, bar,
                                   out.progress_enabled())
    result = {"op": args.op, "version": str(loaded.version), "number": record.number_text,
              "sha256": loaded.sha256, "size": loaded.size,
              "output": None if to_stdout else str(args.output), "signed_by": loaded.signer,
              "signature_verified": store.verifier is not None}
    if out.json_mode and not to_stdout:
        out.json(result)
    elif not to_stdout:
        checked = " (verified)" if store.verifier is not None else ""
        out.line(f"pulled {args.op} {record.number_text} to {args.output} "
                 f"({loaded.size} bytes, sha256 verified {loaded.sha256}, "
                 f"{_signed(loaded.signer)}{checked})")
    return 0


def _signed(signer: str | None) -> str:
    return "unsigned" if signer is None else f"signed by key {signer}"


def default_name(op: str, number: str) -> str:
    """``OP-NUMBER.bin`` with every character a file name could trip on replaced by ``_``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", op)
    return f"{'_' + safe[1:] if safe.startswith('.') else safe}-{number}.bin"


def output_path(output: str | None, op: str, number: str) -> Path:
    """Where a pull writes: ``-o FILE``, ``-o DIR/`` + the default name, else the default."""
    target = Path(default_name(op, number) if output is None else output)
    if output is not None and target.is_dir():
        target = target / default_name(op, number)
    if target.is_dir():
        raise InvalidInputError(f"cannot pull into {str(target)!r}: it is a directory")
    return target


def _pull_to_path(store: OpStore, op: str, version: Any, target: Path, bar: Progress,
                  show: bool) -> Any:
    if not show:
        return store.load_op_bytes_to(op, version, target)
    # Same guarantee as load_op_bytes_to(path): the target appears only when verified.
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            loaded = store.load_op_bytes_to(op, version, _WriteProgress(fh, bar))  # type: ignore[arg-type]
        os.replace(tmp_name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return loaded
