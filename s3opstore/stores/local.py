"""The embedded default store: a local directory with S3's conditional semantics.

- create-only: the data is written to a private temp file, fsynced, then
  ``os.link``-ed to its key's path; ``link`` fails if the path exists, which
  makes the create atomic across processes on one machine.
- compare-and-swap: under an exclusive lock on a per-key lock file the
  current content's MD5 is compared with the expected ETag, then the new
  content replaces it with ``os.replace`` (readers see old or new, never half).
- ETags are the quoted MD5 of the content, as S3 computes them for simple
  PUTs; manifests carry a unique token, so an ETag never repeats (no ABA).
- durable once acknowledged: every link, rename, unlink and mkdir that makes
  a write visible is followed by an fsync of its directory before returning.
- no symlinks: a link anywhere on a key's path is refused with
  :class:`UnsafePathError`, so nothing is read or written outside the root.
- OS errors become typed errors (a full disk: :class:`StorageFullError`);
  a failed write leaves nothing visible, only its temp file is removed.

Temp and lock files live under ``.s3opstore-tmp/`` and ``.s3opstore-locks/``;
keys whose segments start with '.' are refused, so no key can name them.
:meth:`LocalStore.remove_scratch_leftovers` (run by gc) removes the stale ones.

The layout is decided when a directory is first opened and recorded in
``.s3opstore-layout``: "plain", or "case-folded" on a case-insensitive file
system, where upper-case letters are stored escaped (see ``local_layout``).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import os
import stat
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from s3opstore.errors import (
    InvalidKeyError,
    ObjectNotFoundError,
    PreconditionFailedError,
)
from s3opstore.stores import local_listing, local_scratch
from s3opstore.stores.base import GetResult, IfMatch, ObjectInfo, PutMode, check_key
from s3opstore.stores.local_fs import (
    decode_segment,
    encode_segment,
    fsync_dir,
    mtime,
    refuse_symlink,
    translated,
    walk_dirs,
)
from s3opstore.stores.local_layout import decide_layout, make_dirs, recorded_layout
from s3opstore.stores.local_lock import NOFOLLOW, held, lock_fd, same_file
from s3opstore.stores.local_scratch import LOCKS_DIR, TMP_DIR, ScratchLeftover

__all__ = ["LocalStore"]

_COPY_CHUNK = 1024 * 1024
_HEAD_ETAG_LIMIT = 16 * 1024 * 1024


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (one seam: tests inject a full disk here)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _md5_etag(fh: BinaryIO) -> str:
    """The MD5 ETag of a whole file, read in chunks (large blobs included)."""
    md5 = hashlib.md5(usedforsecurity=False)
    while chunk := fh.read(_COPY_CHUNK):
        md5.update(chunk)
    return f'"{md5.hexdigest()}"'


class LocalStore:
    def __init__(self, root: str | os.PathLike[str], *,
                 case_insensitive: bool | None = None) -> None:
        """Open the store at ``root``; it is created by the first write, not here.

        Reads never create anything, so browsing a missing directory or a
        read-only mount works (an empty store). The layout is decided by the
        first write; ``case_insensitive`` overrides the probe of a new directory
        and decides it now (tests); an existing directory keeps its recorded layout.
        """
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self._forced = case_insensitive
        self._ready = False
        self.case_folded = False
        with translated(f"opening {self._root}"):
            for scratch in (TMP_DIR, LOCKS_DIR):
                path = os.path.join(self._root, scratch)
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    refuse_symlink(path, os.lstat(path).st_mode, "to open the store")
            recorded = recorded_layout(self._root)
            self._decided = recorded is not None
            self.case_folded = bool(recorded)
            if case_insensitive is not None:
                self._prepare()

    def _prepare(self) -> None:
        """Before the first write: create the directories and decide the layout."""
        if self._ready:
            return
        with translated(f"opening {self._root}"):
            make_dirs(self._root)
            self.case_folded = decide_layout(self._root, self._forced)
        self._decided = self._ready = True

    def _folded(self) -> bool:
        """The layout for a read; until it is recorded, keys are plain (there are none)."""
        if not self._decided:
            recorded = recorded_layout(self._root)
            if recorded is not None:
                self.case_folded, self._decided = recorded, True
        return self.case_folded

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalStore({self._root!r})"

    def _segments(self, key: str) -> list[str]:
        """The stored names of a key's segments; '.' segments are the store's own."""
        segments = check_key(key).split("/")
        if any(s.startswith(".") for s in segments):
            raise InvalidKeyError(f"invalid store key {key!r}: the local store reserves "
                                  "segments starting with '.'")
        return [encode_segment(s) for s in segments] if self._folded() else segments

    def _decode(self, name: str) -> str | None:
        return decode_segment(name) if self._folded() else name

    # -- scratch -----------------------------------------------------------------
    def _tmp_dir(self) -> str:
        return os.path.join(self._root, TMP_DIR)

    def _new_tmp(self, what: str) -> tuple[int, str]:
        """A new temp file, open and locked (gc leaves held ones alone)."""
        self._prepare()
        directory = self._tmp_dir()
        refuse_symlink(directory, os.lstat(directory).st_mode, what)
        while True:
            path = os.path.join(directory, uuid.uuid4().hex)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW, 0o644)
            try:
                lock_fd(fd, blocking=True)
                if same_file(fd, path):
                    return fd, path
            except BaseException:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                raise
            os.close(fd)  # a cleaner with no age limit removed it before we locked it

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        self._prepare()
        directory = os.path.join(self._root, LOCKS_DIR)
        refuse_symlink(directory, os.lstat(directory).st_mode, f"key {key!r}")
        with held(os.path.join(directory, hashlib.sha256(key.encode()).hexdigest())):
            yield

    def scratch_leftovers(self, older_than: timedelta) -> builtins.list[ScratchLeftover]:
        """Temp and lock files older than ``older_than`` that no process holds; read-only."""
        with translated("scanning scratch files"):
            return local_scratch.find(self._root, older_than)

    def remove_scratch_leftovers(self, older_than: timedelta, *,
                                 dry_run: bool = False) -> builtins.list[ScratchLeftover]:
        """Remove those leftovers (each only while holding its lock); returns what went."""
        if not os.path.isdir(self._root):
            return []
        with translated("removing scratch files"):
            return local_scratch.remove(self._root, older_than, dry_run=dry_run)

    # -- reads -------------------------------------------------------------------
    def _find(self, key: str) -> str | None:
        segments = self._segments(key)
        directory = walk_dirs(self._root, segments[:-1], key, create=False)
        return None if directory is None else os.path.join(directory, segments[-1])

    def _open(self, key: str) -> tuple[int, os.stat_result] | None:
        """The key's regular file open for reading, or None; a symlink is refused."""
        path = self._find(key)
        if path is None:
            return None
        try:
            if not NOFOLLOW:
                refuse_symlink(path, os.lstat(path).st_mode, f"key {key!r}")
            fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            refuse_symlink(path, os.lstat(path).st_mode, f"key {key!r}")  # ELOOP
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        return fd, info

    def get(self, key: str) -> GetResult:
        with translated(f"get of key {key!r}"):
            opened = self._open(key)
            if opened is None:
                raise ObjectNotFoundError(key)
            fd, info = opened
            with os.fdopen(fd, "rb") as fh:
                data = fh.read()
        return GetResult(data=data, etag=_etag(data), last_modified=mtime(info))

    def get_if_changed(self, key: str, etag: str) -> GetResult | None:
        got = self.get(key)  # a local read is cheap; the ETag is the content's MD5
        return None if got.etag == etag else got

    def head(self, key: str) -> ObjectInfo | None:
        """Size, time and ETag; the ETag (an MD5 of the content) only up to 16 MiB.

        Hashing a large blob on every HEAD would read it whole; like a multipart
        S3 object's ETag, a large local blob's says nothing, so none is given.
        Only small manifests are ever compared by ETag.
        """
        with translated(f"head of key {key!r}"):
            opened = self._open(key)
            if opened is None:
                return None
            fd, info = opened
            etag = sha256 = None
            with os.fdopen(fd, "rb") as fh:
                if info.st_size <= _HEAD_ETAG_LIMIT:
                    content = fh.read()
                    etag, sha256 = _etag(content), hashlib.sha256(content).hexdigest()
        return ObjectInfo(key=key, size=info.st_size, etag=etag, last_modified=mtime(info),
                          sha256=sha256)

    def download(self, key: str, sink: BinaryIO) -> int:
        written = 0
        action = f"download of key {key!r}"
        with translated(action):
            opened = self._open(key)
        if opened is None:
            raise ObjectNotFoundError(key)
        with os.fdopen(opened[0], "rb") as fh:
            while True:
                with translated(action):
                    chunk = fh.read(_COPY_CHUNK)
                if not chunk:
                    return written
                sink.write(chunk)  # the sink's own errors are the caller's, not the store's
                written += len(chunk)

    # -- writes ------------------------------------------------------------------
    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        self._write(key, lambda fd: _write_all(fd, data), mode, f"put of key {key!r}")
        return _etag(data)

    def upload(self, key: str, source: BinaryIO, *, size: int) -> None:
        def fill(fd: int) -> None:
            while chunk := source.read(_COPY_CHUNK):
                _write_all(fd, chunk)

        self._write(key, fill, "overwrite", f"upload of key {key!r}")

    def _write(self, key: str, fill: Callable[[int], None], mode: PutMode,
               action: str) -> None:
        """Fill a private temp file, fsync it, publish it (link or replace), fsync the dir."""
        self._prepare()
        segments = self._segments(key)
        with translated(action) as progress:
            directory = walk_dirs(self._root, segments[:-1], key, create=True)
            assert directory is not None
            path = os.path.join(directory, segments[-1])
            fd, tmp = self._new_tmp(f"key {key!r}")
            try:
                fill(fd)
                os.fsync(fd)
                if mode == "create":
                    self._link(key, tmp, path)
                else:
                    with self._locked(key):
                        self._check_current(key, path, mode)
                        os.replace(tmp, path)
                progress.visible = True
                fsync_dir(directory)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                os.close(fd)

    def _link(self, key: str, tmp: str, path: str) -> None:
        try:
            os.link(tmp, path)
        except FileExistsError as exc:
            with contextlib.suppress(FileNotFoundError):
                refuse_symlink(path, os.lstat(path).st_mode, f"key {key!r}")
            raise PreconditionFailedError(key) from exc

    def _check_current(self, key: str, path: str, mode: PutMode) -> None:
        """Under the key's lock: refuse a symlinked key; for IfMatch, compare ETags."""
        try:
            refuse_symlink(path, os.lstat(path).st_mode, f"key {key!r}")
        except FileNotFoundError as exc:
            if isinstance(mode, IfMatch):
                raise PreconditionFailedError(key) from exc
            return
        if isinstance(mode, IfMatch) and self._etag_of(key) != mode.etag:
            raise PreconditionFailedError(key)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        with translated(f"delete of key {key!r}") as progress:
            path = self._find(key)
            if path is None:
                return
            with self._locked(key):
                try:
                    info = os.lstat(path)
                    refuse_symlink(path, info.st_mode, f"key {key!r}")
                    if stat.S_ISDIR(info.st_mode):
                        return  # 'a' when only 'a/b' exists: no such object
                    if if_match is not None and self._etag_of(key) != if_match:
                        raise PreconditionFailedError(key)
                    os.unlink(path)
                except FileNotFoundError:
                    return
                progress.visible = True
                fsync_dir(os.path.dirname(path))

    def delete_many(self, keys: Sequence[str]) -> None:
        """One unlink per key (a directory has no batch delete), each as ``delete``."""
        for key in keys:
            check_key(key)
        for key in keys:
            self.delete(key)

    # -- listings (stores/local_listing.py) --------------------------------------------
    def list(self, prefix: str, *, start_after: str | None = None,
             limit: int | None = None) -> Iterator[ObjectInfo]:
        return local_listing.list_objects(self._root, prefix, self._segments, self._decode,
                                          start_after=start_after, limit=limit)

    def list_dirs(self, prefix: str) -> builtins.list[str]:
        return local_listing.list_dirs(self._root, prefix, self._segments, self._decode)

    def _etag_of(self, key: str) -> str | None:
        """The MD5 ETag of the whole object, however large (for conditional deletes/copies)."""
        opened = self._open(key)
        if opened is None:
            return None
        with os.fdopen(opened[0], "rb") as fh:
            return _md5_etag(fh)

    def copy(self, source: str, target: str, *, source_etag: str | None = None) -> None:
        """Through ``upload``, so the copy is as durable and atomic as any blob write.

        The source is opened once: a replacement (os.replace) after the ETag check
        cannot change the bytes copied, which come from the inode that was checked.
        """
        with translated(f"copy of key {source!r}"):
            opened = self._open(source)
        if opened is None:
            raise ObjectNotFoundError(source)
        fd, info = opened
        with os.fdopen(fd, "rb") as fh:
            if source_etag is not None:
                if _md5_etag(fh) != source_etag:
                    raise PreconditionFailedError(source)
                fh.seek(0)
            self.upload(target, fh, size=info.st_size)
