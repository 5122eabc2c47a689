"""Garbage collection: unreferenced blobs and scratch leftovers, never a commit.

What may be deleted:

- a blob ``ops/<op>/blobs/sha256/<hex>`` that no byte binding
  ``ops/<op>/bytes/<vid>/*.json`` of that op references (every binding counts,
  superseded ones too: a version's history stays loadable), typically left by
  a writer that died between uploading and binding;
- scratch objects under ``_s3opstore/probe/`` and ``_s3opstore/clock/``.

Only objects older than the grace period are touched, with ages measured on
the STORE's clock: "now" is the ``last_modified`` of a tiny object this run
writes under ``_s3opstore/clock/`` (then deletes). Scratch objects also need
at least :data:`SCRATCH_MIN_AGE`, so even ``--grace 0`` cannot break a
conditional-write probe in flight. Manifests, heads, listing entries, links,
pipelines and aliases are never deleted.

Racing writers. Just before deleting a blob, gc HEADs it (still old?) and
re-lists the op's bindings (still unreferenced?). It then keeps a local copy,
deletes, and re-lists the bindings once more: a binding committed meanwhile
makes gc put the blob back. Together with the writer's own rule (a writer
that reused an existing blob HEADs it again after binding and re-uploads it
if missing), every interleaving ends with the blob present: a binding
committed before gc's last re-list is seen by gc; one committed after it is
followed by the writer's HEAD, which comes after gc's delete. Bindings are
immutable, so their digests are cached and a re-list only GETs new bindings.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from s3opstore.errors import (
    CorruptManifestError,
    InvalidInputError,
    NotFoundError,
    S3OpStoreError,
    StorageError,
)
from s3opstore.models.codec import decode
from s3opstore.models.keys import (
    CLOCK_PREFIX,
    OPS_PREFIX,
    PROBE_PREFIX,
    blob_prefix,
    clock_key,
    decode_names,
    op_prefix,
)
from s3opstore.models.manifests import BytesBinding
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectInfo, ObjectStore

__all__ = [
    "CLOCK_PREFIX",
    "PROBE_PREFIX",
    "SCRATCH_MIN_AGE",
    "GcItem",
    "GcReport",
    "collect_garbage",
    "store_now",
]

SCRATCH_MIN_AGE = timedelta(minutes=10)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

ProgressFn = Callable[[int, int], None]


def store_now(store: ObjectStore) -> datetime:
    """The store's current time: the ``last_modified`` of an object written now."""
    key = clock_key(uuid.uuid4().hex)
    store.put(key, b"", mode="create")
    try:
        info = store.head(key)
    finally:
        store.delete(key)
    if info is None or info.last_modified is None:
        raise StorageError(f"the store reported no last-modified time for {key!r}")
    return info.last_modified


@dataclass(frozen=True)
class GcItem:
    key: str
    size: int
    last_modified: datetime | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "size": self.size, "reason": self.reason,
                "last_modified": None if self.last_modified is None
                else self.last_modified.isoformat()}


@dataclass
class GcReport:
    now: datetime
    grace: timedelta
    dry_run: bool
    deleted: list[GcItem] = field(default_factory=list)
    kept: list[GcItem] = field(default_factory=list)
    referenced_blobs: int = 0
    young: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def deleted_bytes(self) -> int:
        return sum(item.size for item in self.deleted)

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "now": self.now.isoformat(),
                "grace_hours": self.grace.total_seconds() / 3600,
                "deleted": [i.to_json() for i in self.deleted],
                "deleted_bytes": self.deleted_bytes,
                "kept": [i.to_json() for i in self.kept],
                "referenced_blobs": self.referenced_blobs, "young": self.young,
                "warnings": list(self.warnings)}


class _Bindings:
    """The digests an op's bindings reference; bindings are immutable, so cached."""

    def __init__(self, store: ObjectStore, op: str) -> None:
        self.store = store
        self.prefix = f"{op_prefix(op)}bytes/"
        self.by_key: dict[str, str] = {}

    def referenced(self) -> set[str]:
        """Re-list; GET only bindings not seen before. Raises on an unreadable one."""
        for info in self.store.list(self.prefix):
            if info.key not in self.by_key:
                data = self.store.get(info.key).data
                self.by_key[info.key] = decode(BytesBinding, data, info.key).sha256
        return set(self.by_key.values())


def _old(info: ObjectInfo | None, cutoff: datetime) -> bool:
    return info is not None and info.last_modified is not None and info.last_modified <= cutoff


def collect_garbage(opstore: OpStore, *, grace_hours: float = 24.0, dry_run: bool = False,
                    progress: ProgressFn | None = None) -> GcReport:
    """Delete (or with ``dry_run`` only report) garbage older than ``grace_hours``."""
    if grace_hours < 0:
        raise InvalidInputError(f"grace must be zero or more hours, not {grace_hours}")
    store = opstore.store
    grace = timedelta(hours=grace_hours)
    now = store_now(store)
    report = GcReport(now=now, grace=grace, dry_run=dry_run)
    cutoff = now - grace
    ops = decode_names(store.list_dirs(OPS_PREFIX))  # names: the key functions encode them
    for index, op in enumerate(ops):
        _sweep_op(store, op, cutoff, report)
        if progress is not None:
            progress(index + 1, len(ops) + 1)
    scratch_cutoff = min(cutoff, now - SCRATCH_MIN_AGE)
    for prefix in (PROBE_PREFIX, CLOCK_PREFIX):
        for info in store.list(prefix):
            if not _old(info, scratch_cutoff):
                report.young += 1
                continue
            if not _old(store.head(info.key), scratch_cutoff):
                continue
            if not dry_run:
                store.delete(info.key)
            report.deleted.append(GcItem(info.key, info.size, info.last_modified,
                                         "scratch object left by a writer"))
    if progress is not None:
        progress(len(ops) + 1, len(ops) + 1)
    return report


def _sweep_op(store: ObjectStore, op: str, cutoff: datetime, report: GcReport) -> None:
    bindings = _Bindings(store, op)
    try:
        referenced = bindings.referenced()
    except (CorruptManifestError, NotFoundError) as exc:
        report.warnings.append(f"op {op!r} skipped: a byte binding is unreadable ({exc}); "
                               "run fsck")
        return
    prefix = blob_prefix(op)
    for info in store.list(prefix):
        digest = info.key[len(prefix):]
        if not _HEX64.match(digest):
            report.warnings.append(f"unexpected key {info.key!r} among the blobs: left alone")
            continue
        if digest in referenced:
            report.referenced_blobs += 1
            continue
        if not _old(info, cutoff):
            report.young += 1
            continue
        _delete_blob(store, bindings, info, digest, cutoff, report)


def _delete_blob(store: ObjectStore, bindings: _Bindings, info: ObjectInfo, digest: str,
                 cutoff: datetime, report: GcReport) -> None:
    item = GcItem(info.key, info.size, info.last_modified, "no byte binding references it")
    # Re-check just before deleting: still old, still unreferenced.
    current = store.head(info.key)
    if current is None:
        return
    if not _old(current, cutoff):
        report.kept.append(GcItem(info.key, info.size, current.last_modified,
                                  "rewritten since it was listed"))
        return
    try:
        if digest in bindings.referenced():
            report.referenced_blobs += 1
            return
    except (CorruptManifestError, NotFoundError) as exc:
        report.warnings.append(f"kept {info.key!r}: a byte binding became unreadable ({exc})")
        return
    if report.dry_run:
        report.deleted.append(item)
        return
    with tempfile.TemporaryFile(prefix="s3opstore-gc-") as copy:
        store.download(info.key, copy)
        size = copy.tell()
        store.delete(info.key)
        try:
            still_free = digest not in bindings.referenced()
        except S3OpStoreError:
            still_free = False  # cannot tell: put it back
        if still_free:
            report.deleted.append(item)
            return
        copy.seek(0)
        store.upload(info.key, copy, size=size)
        report.kept.append(GcItem(info.key, size, info.last_modified,
                                  "restored: a version bound it while it was being deleted"))
