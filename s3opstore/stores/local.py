"""The embedded default store: a local directory with S3's conditional semantics.

- create-only: the data is written to a private temp file, fsynced, then
  ``os.link``-ed to its key's path; ``link`` fails if the path exists, which
  makes the create atomic across processes on one machine.
- compare-and-swap: under an exclusive ``flock`` on a per-key lock file the
  current content's MD5 is compared with the expected ETag, then the new
  content replaces it with ``os.replace`` (readers see old or new, never half).
- ETags are the quoted MD5 of the content, as S3 computes them for simple
  PUTs; manifests carry a unique token, so an ETag never repeats (no ABA).

Temp and lock files live under ``.s3opstore-tmp/`` and ``.s3opstore-locks/``,
which no key can name (keys cannot start a segment with '.').
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from s3opstore.errors import ObjectNotFoundError, PreconditionFailedError
from s3opstore.stores.base import GetResult, IfMatch, ObjectInfo, PutMode, check_key, check_prefix

__all__ = ["LocalStore"]

_TMP = ".s3opstore-tmp"
_LOCKS = ".s3opstore-locks"
_COPY_CHUNK = 1024 * 1024
_HEAD_ETAG_LIMIT = 16 * 1024 * 1024


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


class LocalStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _TMP).mkdir(exist_ok=True)
        (self.root / _LOCKS).mkdir(exist_ok=True)

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _tmp(self) -> Path:
        return self.root / _TMP / uuid.uuid4().hex

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        name = hashlib.sha256(key.encode()).hexdigest()
        fd = os.open(self.root / _LOCKS / name, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write_tmp(self, data: bytes) -> Path:
        tmp = self._tmp()
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def get(self, key: str) -> GetResult:
        path = self._path(key)
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFoundError(key) from exc
        return GetResult(data=data, etag=_etag(data),
                         last_modified=datetime.fromtimestamp(mtime, UTC))

    def head(self, key: str) -> ObjectInfo | None:
        """Size, time and ETag; the ETag (an MD5 of the content) only up to 16 MiB.

        Hashing a large blob on every HEAD would read it whole; like a multipart
        S3 object's ETag, a large local blob's says nothing, so none is given.
        Only small manifests are ever compared by ETag.
        """
        path = self._path(key)
        try:
            stat = path.stat()
            if not path.is_file():
                return None
            etag = sha256 = None
            if stat.st_size <= _HEAD_ETAG_LIMIT:
                content = path.read_bytes()
                etag, sha256 = _etag(content), hashlib.sha256(content).hexdigest()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return ObjectInfo(key=key, size=stat.st_size, etag=etag,
                          last_modified=datetime.fromtimestamp(stat.st_mtime, UTC), sha256=sha256)

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._write_tmp(data)
        try:
            if mode == "create":
                try:
                    os.link(tmp, path)
                except FileExistsError as exc:
                    raise PreconditionFailedError(key) from exc
            elif isinstance(mode, IfMatch):
                with self._locked(key):
                    try:
                        current = path.read_bytes()
                    except FileNotFoundError as exc:
                        raise PreconditionFailedError(key) from exc
                    if _etag(current) != mode.etag:
                        raise PreconditionFailedError(key)
                    os.replace(tmp, path)
            else:
                with self._locked(key):
                    os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return _etag(data)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        path = self._path(key)
        with self._locked(key), contextlib.suppress(FileNotFoundError):
            if if_match is not None and _etag(path.read_bytes()) != if_match:
                raise PreconditionFailedError(key)
            path.unlink()

    def _walk(self, base: Path) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = os.path.relpath(entry.path, self.root).replace(os.sep, "/")
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield rel

    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        directory = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        keys = sorted(k for k in self._walk(self.root / directory) if k.startswith(prefix))
        count = 0
        for key in keys:
            if start_after is not None and key <= start_after:
                continue
            if limit is not None and count >= limit:
                return
            try:
                stat = (self.root / key).stat()
            except FileNotFoundError:
                continue
            count += 1
            yield ObjectInfo(key=key, size=stat.st_size, etag=None,
                             last_modified=datetime.fromtimestamp(stat.st_mtime, UTC))

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        check_prefix(prefix)
        base = self.root / prefix if prefix else self.root
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [e.name for e in entries
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
                and any(True for _ in self._walk(Path(e.path)))]

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp()
        try:
            with open(tmp, "wb") as fh:
                shutil.copyfileobj(source, fh, _COPY_CHUNK)
                fh.flush()
                os.fsync(fh.fileno())
            with self._locked(key):
                os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def download(self, key: str, sink: BinaryIO) -> int:
        path = self._path(key)
        written = 0
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFoundError(key) from exc
        with fh:
            while chunk := fh.read(_COPY_CHUNK):
                sink.write(chunk)
                written += len(chunk)
        return written

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        """Through ``upload``, so the copy is as durable and atomic as any blob write.

        The source is opened once: a replacement (os.replace) after the ETag check
        cannot change the bytes copied, which come from the inode that was checked.
        """
        path = self._path(source)
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFoundError(source) from exc
        with fh:
            if source_etag is not None:
                md5 = hashlib.md5(usedforsecurity=False)
                while chunk := fh.read(_COPY_CHUNK):
                    md5.update(chunk)
                if f'"{md5.hexdigest()}"' != source_etag:
                    raise PreconditionFailedError(source)
                fh.seek(0)
            self.upload(target, fh, size=os.fstat(fh.fileno()).st_size)
