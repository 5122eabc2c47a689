"""How a local store's directory is laid out: created durably, then plain or case-folded.

On a case-insensitive file system (macOS and Windows by default) ``Model`` and
``model`` would share one file, and so one op head. Refusing such systems
would make the embedded default unusable on a Mac, so keys are kept apart
instead: segments are stored escaped (``local_fs.encode_segment``). The choice
is made once, when a directory is first opened, and recorded in
``.s3opstore-layout`` so that every later opener (any process, any flag) reads
keys the same way. A directory that already holds keys but no record was
written plain; on a case-insensitive system its keys may already share files,
so it is refused with a clear error rather than guessed at. Not detected: a
plain directory later copied onto a case-insensitive file system.
"""

from __future__ import annotations

import contextlib
import os
import uuid

from s3opstore.errors import UnsafePathError
from s3opstore.stores.local_fs import fsync_dir, is_case_insensitive, refuse_symlink
from s3opstore.stores.local_lock import NOFOLLOW
from s3opstore.stores.local_scratch import LOCKS_DIR, TMP_DIR

__all__ = ["LAYOUT_FILE", "decide_layout", "make_dirs", "recorded_layout"]

LAYOUT_FILE = ".s3opstore-layout"
_PLAIN, _FOLDED = "plain", "case-folded"


def make_dirs(root: str) -> None:
    """Create ``root`` and its scratch directories, each made durable in its parent."""
    missing = []
    path = root
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    for path in [*reversed(missing), *(os.path.join(root, d) for d in (TMP_DIR, LOCKS_DIR))]:
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
            fsync_dir(os.path.dirname(path))
        refuse_symlink(path, os.lstat(path).st_mode, "to open the store")


def decide_layout(root: str, forced: bool | None) -> bool:
    """Whether keys are stored case-folded; ``forced`` replaces the probe (tests)."""
    marker = os.path.join(root, LAYOUT_FILE)
    recorded = _read(marker)
    if recorded is None:
        legacy = any(not name.startswith(".") for name in os.listdir(root))
        tmp_dir = os.path.join(root, TMP_DIR)
        folded = is_case_insensitive(tmp_dir) if forced is None else forced
        if legacy and folded:
            raise UnsafePathError(
                f"{root} is on a case-insensitive file system and holds keys written before "
                "s3opstore kept such keys apart ('Model' and 'model' may share a file); move "
                "it to a case-sensitive file system or start a new directory")
        _record(marker, tmp_dir, _FOLDED if folded else _PLAIN)
        recorded = _read(marker)
    if recorded not in (_PLAIN, _FOLDED):
        raise UnsafePathError(f"{marker} names an unknown layout {recorded!r}")
    return recorded == _FOLDED


def recorded_layout(root: str) -> bool | None:
    """Whether a recorded layout is case-folded; None when none is recorded (yet)."""
    try:
        recorded = _read(os.path.join(root, LAYOUT_FILE))
    except (NotADirectoryError, PermissionError):
        return None
    if recorded is None:
        return None
    if recorded not in (_PLAIN, _FOLDED):
        raise UnsafePathError(f"{os.path.join(root, LAYOUT_FILE)} names an unknown layout "
                              f"{recorded!r}")
    return recorded == _FOLDED


def _record(marker: str, tmp_dir: str, layout: str) -> None:
    """Create the record once (link: the first of racing openers wins), durably.

    No lock is taken: opening a store must work where locks do not.
    """
    tmp = os.path.join(tmp_dir, f"layout-{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | NOFOLLOW, 0o644)
    try:
        os.write(fd, layout.encode() + b"\n")
        os.fsync(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, marker)
            fsync_dir(os.path.dirname(marker))
    finally:
        os.close(fd)
        os.unlink(tmp)


def _read(marker: str) -> str | None:
    try:
        fd = os.open(marker, os.O_RDONLY | NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read(100).decode("ascii", "replace").strip()
