"""Scratch files a local store accumulates, and their safe removal.

A writer's temp file (``.s3opstore-tmp/``) is locked by the writer from its
creation until it is linked or renamed into place, so a temp file nobody
holds belongs to a writer that died. A per-key lock file
(``.s3opstore-locks/``) is unlinked only while its lock is held, and lockers
check they locked the file the path still names (see ``local_lock``); so
removing one never lets two writers in at once, it is simply recreated by the
next write of its key. Age (``older_than``) is an extra margin on top.

gc and fsck reach these through :func:`scratch_owner`, which finds a store
offering :class:`ScratchCleaner` below any wrappers; S3 stores offer none.
"""

from __future__ import annotations

import builtins
import os
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from s3opstore.stores.capabilities import layers
from s3opstore.stores.local_lock import is_locked, remove_if_unlocked

__all__ = ["LOCKS_DIR", "TMP_DIR", "ScratchCleaner", "ScratchLeftover", "find", "remove",
           "scratch_owner"]

TMP_DIR = ".s3opstore-tmp"
LOCKS_DIR = ".s3opstore-locks"
_DIRS: tuple[tuple[str, Literal["temp", "lock"]], ...] = ((TMP_DIR, "temp"), (LOCKS_DIR, "lock"))
_REASONS = {
    "temp": "temp file of a local-store writer that died (no process holds it)",
    "lock": "per-key lock file of the local store that no process holds "
            "(recreated by the next write of its key)",
}


@dataclass(frozen=True)
class ScratchLeftover:
    """One stale scratch file; ``path`` is relative to the store root."""

    path: str
    kind: Literal["temp", "lock"]
    size: int
    last_modified: datetime

    @property
    def reason(self) -> str:
        return _REASONS[self.kind]


@runtime_checkable
class ScratchCleaner(Protocol):
    """A store with private scratch files that gc may remove and fsck reports."""

    def scratch_leftovers(self, older_than: timedelta) -> builtins.list[ScratchLeftover]: ...

    def remove_scratch_leftovers(self, older_than: timedelta, *,
                                 dry_run: bool = False) -> builtins.list[ScratchLeftover]: ...


def scratch_owner(store: object) -> ScratchCleaner | None:
    """The store itself, or the one a wrapper wraps, if it has scratch files."""
    return next((layer for layer in layers(store) if isinstance(layer, ScratchCleaner)),
                None)


def _candidates(root: str, older_than: timedelta) -> builtins.list[ScratchLeftover]:
    cutoff = time.time() - older_than.total_seconds()
    found = []
    for directory, kind in _DIRS:
        try:
            entries = list(os.scandir(os.path.join(root, directory)))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_mtime > cutoff:
                continue
            found.append(ScratchLeftover(f"{directory}/{entry.name}", kind, info.st_size,
                                         datetime.fromtimestamp(info.st_mtime, UTC)))
    return sorted(found, key=lambda item: item.path)


def find(root: str, older_than: timedelta) -> builtins.list[ScratchLeftover]:
    """Scratch files older than ``older_than`` that no process holds now; read-only."""
    return [item for item in _candidates(root, older_than)
            if not is_locked(os.path.join(root, item.path))]


def remove(root: str, older_than: timedelta, *,
           dry_run: bool = False) -> builtins.list[ScratchLeftover]:
    """Remove (or with ``dry_run`` only list) what :func:`find` finds; returns what went."""
    if dry_run:
        return find(root, older_than)
    return [item for item in _candidates(root, older_than)
            if remove_if_unlocked(os.path.join(root, item.path))]
