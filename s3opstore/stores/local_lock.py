"""Exclusive file locks for the local store, portable and safe against lock-file removal.

``fcntl`` is imported only when a lock is first taken (and ``msvcrt`` on
Windows), so ``import s3opstore`` works on every platform.

Lock files may be removed by :func:`remove_if_unlocked` (gc does it), which
unlinks a file only while holding its lock. A locker may still have opened
the file before it was unlinked and then acquire the lock on an orphan inode
that no later locker can see; so after acquiring, :func:`held` compares the
locked inode with what the path names now and starts over when they differ.
Once a locker holds the inode the path names, no cleaner can unlink it (a
cleaner must hold the same lock first), so two lockers never both hold "the"
lock of one path.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from s3opstore.errors import UnsafeStoreError

__all__ = ["NOFOLLOW", "held", "is_locked", "lock_fd", "remove_if_unlocked", "same_file",
           "unlock_fd"]

#: refuse to open a symlink as the last path component, where the OS can tell
NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)

if sys.platform == "win32":
    def lock_fd(fd: int, *, blocking: bool) -> bool:
        """Lock the first byte of ``fd``; False when ``blocking`` is off and it is taken."""
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not blocking:
                    return False
            # LK_LOCK gives up after ten one-second tries; waiting is what flock does
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return True
            except OSError:
                continue

    def unlock_fd(fd: int) -> None:
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    def lock_fd(fd: int, *, blocking: bool) -> bool:
        """``flock`` ``fd`` exclusively; False when ``blocking`` is off and it is taken."""
        try:
            import fcntl
        except ImportError as exc:
            raise UnsafeStoreError("this platform offers neither fcntl nor msvcrt locks, so "
                                   "the local store cannot serialise writers") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def unlock_fd(fd: int) -> None:
        pass  # closing the descriptor releases a flock


def same_file(fd: int, path: str) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed, not replaced)."""
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    held_stat = os.fstat(fd)
    return (held_stat.st_dev, held_stat.st_ino) == (now.st_dev, now.st_ino)


@contextlib.contextmanager
def held(path: str) -> Iterator[None]:
    """Hold the exclusive lock of the lock file ``path`` (created if absent)."""
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR | NOFOLLOW, 0o644)
        try:
            lock_fd(fd, blocking=True)
            if same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # removed while we waited: lock the file that replaced it
    try:
        yield
    finally:
        unlock_fd(fd)
        os.close(fd)


def is_locked(path: str) -> bool:
    """Whether some process holds ``path``'s lock right now (False if it is gone)."""
    try:
        fd = os.open(path, os.O_RDWR | NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        if not lock_fd(fd, blocking=False):
            return True
        unlock_fd(fd)
        return False
    finally:
        os.close(fd)


def remove_if_unlocked(path: str) -> bool:
    """Unlink ``path`` while holding its lock; False if it is held, gone or replaced."""
    try:
        fd = os.open(path, os.O_RDWR | NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        if not lock_fd(fd, blocking=False) or not same_file(fd, path):
            return False
        try:
            os.unlink(path)
        except (FileNotFoundError, PermissionError):
            return False  # Windows cannot unlink a file another process has open
        unlock_fd(fd)
        return True
    finally:
        os.close(fd)
