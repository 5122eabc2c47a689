"""File-system rules of the local store: durability, no symlinks, typed errors, case folding.

- Durability: a rename, link, unlink or mkdir is durable only once its parent
  directory is fsynced; :func:`fsync_dir` does that after every step that makes
  a write visible, so power loss cannot undo an acknowledged write.
- Symlinks: :func:`walk_dirs` ``lstat``-s every directory of a key's path and
  refuses a symlink with :class:`UnsafePathError`; final components are opened
  with ``O_NOFOLLOW``, and ``link``/``rename`` never follow them. The check
  covers links planted in the store; a process racing to swap a checked
  directory for a link between the check and the write is not covered.
- Errors: :func:`os_error` turns an ``OSError`` into the package's typed
  errors (a full disk is :class:`StorageFullError`, HTTP 507).
- Case folding: on a case-insensitive file system ``Model`` and ``model``
  would share a file, so each upper-case letter of a segment is stored as
  ``^`` and its lower-case form (:func:`encode_segment`), which is injective
  under case folding and reversed by :func:`decode_segment` for listings.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from s3opstore.errors import (
    S3OpStoreError,
    StorageAccessError,
    StorageError,
    StorageFullError,
    StorageUnavailableError,
    UnsafePathError,
)
from s3opstore.stores.local_lock import NOFOLLOW

__all__ = ["Progress", "decode_segment", "encode_segment", "fsync_dir", "is_case_insensitive",
           "mtime",
           "os_error", "refuse_symlink", "translated", "walk_dirs"]

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_ACCESS = {errno.EACCES, errno.EPERM, errno.EROFS}
_ESCAPE = "^"
# Where the OS has O_DIRECTORY, opening a directory to fsync it cannot open a file.
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | NOFOLLOW
_CAN_FSYNC_DIRS = os.name == "posix"  # Windows cannot open a directory as a file


def fsync_dir(path: str) -> None:
    """Make the entries of directory ``path`` (links, renames, unlinks) durable."""
    if not _CAN_FSYNC_DIRS:
        return
    fd = os.open(path, _DIR_FLAGS)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refuse_symlink(path: str, mode: int, what: str) -> None:
    """Raise :class:`UnsafePathError` if ``mode`` (from ``lstat``) is a symlink's."""
    if stat.S_ISLNK(mode):
        raise UnsafePathError(f"refusing {what}: {path} is a symlink inside the local store; "
                              "remove it (nothing is read or written through a link)")


def walk_dirs(root: str, segments: list[str], key: str, *, create: bool) -> str | None:
    """The directory holding a key's last segment, checked link-free from ``root`` down.

    Returns None when a directory is missing (or a file stands where one should
    be) and ``create`` is off. Created directories are made durable in order:
    each ``mkdir`` is followed by an fsync of its parent.
    """
    path = root
    for segment in segments:
        parent, path = path, os.path.join(path, segment)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            if not create:
                return None
            with contextlib.suppress(FileExistsError):
                os.mkdir(path)
                fsync_dir(parent)
            mode = os.lstat(path).st_mode
        refuse_symlink(path, mode, f"key {key!r}")
        if not stat.S_ISDIR(mode):
            if not create:
                return None
            raise StorageError(f"cannot store key {key!r}: {path} is an object, not a "
                               "directory (the local store cannot hold both 'a' and 'a/b')")
    return path


def os_error(exc: OSError, action: str, *, applied: bool) -> S3OpStoreError:
    """The typed error for an ``OSError`` met while doing ``action`` (e.g. "put of key 'k'")."""
    name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    detail = f"local store: {action} failed: {exc.strerror or exc} ({name})"
    if applied:
        return StorageUnavailableError(detail + "; the write is visible but may not be durable",
                                       maybe_applied=True)
    if exc.errno in _FULL:
        return StorageFullError(detail + "; nothing was written, free space and retry")
    if exc.errno in _ACCESS:
        return StorageAccessError(detail)
    if exc.errno == errno.ELOOP:
        return UnsafePathError(detail + " (a symlink inside the store)")
    return StorageError(detail)


@dataclass
class Progress:
    """Set ``visible`` once a write's effect can be seen: later failures say so."""

    visible: bool = False


@contextlib.contextmanager
def translated(action: str) -> Iterator[Progress]:
    """Re-raise any ``OSError`` of the block as the package's typed error."""
    progress = Progress()
    try:
        yield progress
    except OSError as exc:
        raise os_error(exc, action, applied=progress.visible) from exc


def encode_segment(segment: str) -> str:
    """``Model`` -> ``^model``: no two keys fold to one name (keys are ASCII)."""
    if segment.islower() or not any(c.isupper() for c in segment):
        return segment
    return "".join(_ESCAPE + c.lower() if c.isupper() else c for c in segment)


def decode_segment(name: str) -> str | None:
    """The key segment a stored name encodes, or None if no key encodes to ``name``."""
    if _ESCAPE not in name:
        return None if any(c.isupper() for c in name) else name
    out = []
    chars = iter(name)
    for c in chars:
        if c.isupper():
            return None
        if c == _ESCAPE:
            nxt = next(chars, "")
            if not nxt.islower():
                return None
            c = nxt.upper()
        out.append(c)
    return "".join(out)


def is_case_insensitive(directory: str) -> bool:
    """Probe: does ``directory`` find a file under the upper-case form of its name?"""
    name = f"case-probe-{uuid.uuid4().hex}"
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW, 0o644)
    os.close(fd)
    try:
        return os.path.lexists(os.path.join(directory, name.upper()))
    finally:
        os.unlink(path)


def mtime(info: os.stat_result) -> datetime:
    """A file's modification time as the store reports it (aware, UTC)."""
    return datetime.fromtimestamp(info.st_mtime, UTC)
