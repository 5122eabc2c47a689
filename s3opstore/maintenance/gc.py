"""Garbage collection: unreferenced blobs and scratch leftovers, never a commit.

What may be deleted:

- a blob ``ops/<op>/blobs/sha256/<hex>`` that no byte binding
  ``ops/<op>/bytes/<vid>/*.json`` of that op references (every binding counts,
  superseded ones too: a version's history stays loadable), typically left by
  a writer that died between uploading and binding;
- a presigned upload ``ops/<op>/uploads/<token>`` that was never committed
  (commit_upload deletes the ones it placed);
- scratch objects under ``_s3opstore/probe/`` and ``_s3opstore/clock/``.
- a local store's temp files of dead writers and lock files no process holds
  (``stores.local_scratch``; at least :data:`SCRATCH_MIN_AGE` old).

Only objects older than the grace period are touched, with ages measured on
the STORE's clock: "now" is the ``last_modified`` of a tiny object this run
writes under ``_s3opstore/clock/`` (then deletes). Scratch objects also need
at least :data:`SCRATCH_MIN_AGE`, so even ``--grace 0`` cannot break a
conditional-write probe in flight. Manifests, heads, listing entries, links,
pipelines and aliases are never deleted. The one manifest gc writes: an alias
head left behind its history (a mover died before moving it) is rolled forward
to the history's newest position (design.md, D17).

Racing writers. The argument must hold for every binder (a save that uploads,
a save that reuses a blob, ``commit_upload``) and for a gc killed at any point;
it is written out in docs/design.md (D12). In short:

1. gc never deletes the only copy. Just before deleting a blob it HEADs it
   (still old?), re-lists the op's bindings (still unreferenced?), copies it
   server-side to ``ops/<op>/trash/sha256/<hex>/<unique>``, and only then
   deletes it, conditionally on the ETag it saw (If-Match): bytes rewritten
   since (a repair with other content) are never the ones removed.
2. After deleting, gc re-lists the bindings; a binding committed meanwhile
   makes it copy the blob back. If gc dies first, nothing is lost: readers
   fall back to the trash copy, and the next run restores every blob that a
   binding references from its trash copy.
3. Every binder HEADs the blob again after its binding is visible, and
   uploads (or restores) it when missing. A gc delete after that HEAD must
   have listed the bindings before the binding was visible, and its re-list
   in (2) comes after the delete: it sees the binding.
4. A trash copy is deleted only when its blob is back in place and bound, or
   when it is older than the grace period and still unreferenced. A binder
   that binds later finds the blob missing in (3) and uploads its own bytes.
   Trash keys are unique per deletion, so deleting one never deletes another.

Bindings are immutable, so their digests are cached and a re-list only GETs
new bindings. Unreferenced bytes therefore leave the bucket after about two
grace periods: one at their address, one in the trash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import Field, computed_field

from s3opstore.errors import (
    CorruptManifestError,
    InvalidInputError,
    NotFoundError,
    ObjectNotFoundError,
    PreconditionFailedError,
    S3OpStoreError,
    StorageError,
)
from s3opstore.models.codec import decode
from s3opstore.models.digests import is_sha256
from s3opstore.models.keys import (
    CLOCK_PREFIX,
    OPS_PREFIX,
    PROBE_PREFIX,
    blob_key,
    blob_prefix,
    clock_key,
    decode_names,
    intents_prefix,
    op_prefix,
    parse_intent_key,
    parse_upload_key,
    trash_key,
    trash_root,
    uploads_prefix,
)
from s3opstore.models.manifests import BytesBinding
from s3opstore.models.report import Report
from s3opstore.registry.format import read_format
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectInfo, ObjectStore
from s3opstore.stores.local_scratch import scratch_owner

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


class GcItem(Report):
    """One object gc deleted, kept or restored, and why."""

    key: str
    size: int
    last_modified: datetime | None
    reason: str


def _item(key: str, size: int, last_modified: datetime | None, reason: str) -> GcItem:
    return GcItem(key=key, size=size, last_modified=last_modified, reason=reason)


class GcReport(Report):
    """What one gc run did (or, with ``dry_run``, would do)."""

    dry_run: bool
    now: datetime
    grace: timedelta = Field(exclude=True)
    deleted: list[GcItem]
    kept: list[GcItem]
    restored: list[GcItem]
    referenced_blobs: int
    young: int
    warnings: list[str]
    alias_heads_moved: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def grace_hours(self) -> float:
        return self.grace.total_seconds() / 3600

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deleted_bytes(self) -> int:
        return sum(item.size for item in self.deleted)


@dataclass
class _Sweep:
    """GcReport's findings while the sweep runs."""

    dry_run: bool
    deleted: list[GcItem] = field(default_factory=list)
    kept: list[GcItem] = field(default_factory=list)
    restored: list[GcItem] = field(default_factory=list)
    referenced_blobs: int = 0
    young: int = 0
    warnings: list[str] = field(default_factory=list)
    alias_heads_moved: list[str] = field(default_factory=list)  # "op@alias -> seq"


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
    read_format(store)  # never sweep a store whose newer layout this release cannot read
    grace = timedelta(hours=grace_hours)
    now = store_now(store)
    report = _Sweep(dry_run=dry_run)
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
            report.deleted.append(_item(info.key, info.size, info.last_modified,
                                        "scratch object left by a writer"))
    _sweep_local_scratch(store, max(grace, SCRATCH_MIN_AGE), report)
    try:
        report.alias_heads_moved = [f"{op}@{alias} -> position {seq}" for op, alias, seq
                                    in opstore.repair_alias_heads(dry_run=dry_run)]
    except S3OpStoreError as exc:  # the sweep above stands; the heads wait for the next run
        report.warnings.append(f"alias heads not repaired: {exc}")
    if progress is not None:
        progress(len(ops) + 1, len(ops) + 1)
    return GcReport(now=now, grace=grace, dry_run=dry_run, deleted=report.deleted,
                    kept=report.kept, restored=report.restored,
                    referenced_blobs=report.referenced_blobs, young=report.young,
                    warnings=report.warnings, alias_heads_moved=report.alias_heads_moved)


def _sweep_op(store: ObjectStore, op: str, cutoff: datetime, report: _Sweep) -> None:
    bindings = _Bindings(store, op)
    try:
        referenced = bindings.referenced()
    except (CorruptManifestError, NotFoundError) as exc:
        report.warnings.append(f"op {op!r} skipped: a byte binding is unreadable ({exc}); "
                               "run fsck")
        return
    _sweep_trash(store, op, bindings, cutoff, report)
    _sweep_uploads(store, op, cutoff, report)
    _sweep_intents(store, op, cutoff, report)
    prefix = blob_prefix(op)
    for info in store.list(prefix):
        digest = info.key[len(prefix):]
        if not is_sha256(digest):
            report.warnings.append(f"unexpected key {info.key!r} among the blobs: left alone")
            continue
        if digest in referenced:
            report.referenced_blobs += 1
            continue
        if not _old(info, cutoff):
            report.young += 1
            continue
        _delete_blob(store, op, bindings, info, digest, cutoff, report)


def _sweep_uploads(store: ObjectStore, op: str, cutoff: datetime, report: _Sweep) -> None:
    """Presigned uploads never committed: nothing references a staging key. A URL holder
    may overwrite one until it expires, so its age is read again just before."""
    _sweep_staging(store, uploads_prefix(op), lambda key: parse_upload_key(op, key), cutoff,
                   report, what="uploads", reason="presigned upload never committed",
                   recheck=True)


def _sweep_intents(store: ObjectStore, op: str, cutoff: datetime, report: _Sweep) -> None:
    """Intents left by writers killed while they waited (D18). Nothing reads an intent
    older than a minute, and a live writer that finds its intent gone just commits its
    version itself, so one past the grace is only clutter in the next writers' LIST.
    Intents are create-only: the LIST's age is final."""
    _sweep_staging(store, intents_prefix(op), lambda key: parse_intent_key(op, key), cutoff,
                   report, what="intents", reason="intent of a writer that never finished",
                   recheck=False)


def _sweep_staging(store: ObjectStore, prefix: str, parse: Callable[[str], object | None],
                   cutoff: datetime, report: _Sweep, *, what: str, reason: str,
                   recheck: bool) -> None:
    """Delete the objects under ``prefix`` older than ``cutoff``; nothing references them.

    Objects nobody can rewrite (no ``recheck``) go in one DeleteObjects per 1,000 once
    listed: their LIST's age is final, and a killed writer may leave many at once.
    """
    old: list[ObjectInfo] = []
    for info in store.list(prefix):
        if parse(info.key) is None:
            report.warnings.append(f"unexpected key {info.key!r} among the {what}: left alone")
        elif not _old(info, cutoff) or (recheck and not _old(store.head(info.key), cutoff)):
            report.young += 1
        elif recheck:  # rewritable until just now: one at a time, right after its look
            if not report.dry_run:
                store.delete(info.key)
            report.deleted.append(_item(info.key, info.size, info.last_modified, reason))
        else:
            old.append(info)
    if old and not report.dry_run:
        store.delete_many([info.key for info in old])
    report.deleted += [_item(info.key, info.size, info.last_modified, reason) for info in old]


def _sweep_trash(store: ObjectStore, op: str, bindings: _Bindings, cutoff: datetime,
                 report: _Sweep) -> None:
    """Restore bound blobs from their trash copies; drop copies no longer needed."""
    root = trash_root(op)
    for info in store.list(root):
        digest, _, token = info.key[len(root):].partition("/")
        if not is_sha256(digest) or not token or "/" in token:
            report.warnings.append(f"unexpected key {info.key!r} in the trash: left alone")
            continue
        if digest in bindings.by_key.values():  # bound at the sweep's first listing
            _settle_bound_copy(store, op, info, digest, report)
            continue
        if not _old(info, cutoff):
            report.young += 1
            continue
        try:
            bound_now = digest in bindings.referenced()  # fresh look before the last copy goes
        except (CorruptManifestError, NotFoundError) as exc:
            report.warnings.append(f"kept {info.key!r}: a byte binding is unreadable ({exc})")
            continue
        if bound_now:
            _settle_bound_copy(store, op, info, digest, report)
        else:
            if not report.dry_run:
                store.delete(info.key)  # unique per deletion: no newer copy shares the key
            report.deleted.append(_item(info.key, info.size, info.last_modified,
                                        "trash copy of an unreferenced blob, past the grace"))


def _settle_bound_copy(store: ObjectStore, op: str, info: ObjectInfo, digest: str,
                       report: _Sweep) -> None:
    """A trash copy of a bound blob: put the blob back if missing, then drop the copy."""
    target = blob_key(op, digest)
    present = store.head(target)
    if present is None:
        if not report.dry_run:
            try:
                store.copy(info.key, target)
            except ObjectNotFoundError:
                return  # another gc settled it meanwhile
            present = store.head(target)
        report.restored.append(_item(target, info.size, info.last_modified,
                                     "bound blob put back from its trash copy"))
    if report.dry_run or present is None or present.size != info.size:
        return
    store.delete(info.key)
    report.deleted.append(_item(info.key, info.size, info.last_modified,
                                "trash copy of a blob that is bound and back in place"))


def _delete_blob(store: ObjectStore, op: str, bindings: _Bindings, info: ObjectInfo,
                 digest: str, cutoff: datetime, report: _Sweep) -> None:
    item = _item(info.key, info.size, info.last_modified, "no byte binding references it")
    # Re-check just before deleting: still old, still unreferenced.
    current = store.head(info.key)
    if current is None:
        return
    if not _old(current, cutoff):
        report.kept.append(_item(info.key, info.size, current.last_modified,
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
    aside = trash_key(op, digest, uuid.uuid4().hex)
    store.copy(info.key, aside)  # from here on, a crash loses nothing
    try:
        store.delete(info.key, if_match=current.etag)
    except PreconditionFailedError:
        store.delete(aside)
        report.kept.append(_item(info.key, info.size, current.last_modified,
                                 "rewritten while it was being set aside"))
        return
    try:
        still_free = digest not in bindings.referenced()
    except S3OpStoreError:
        still_free = False  # cannot tell: put it back
    if still_free:
        report.deleted.append(item)
        return
    store.copy(aside, info.key)
    store.delete(aside)
    report.restored.append(_item(info.key, current.size, current.last_modified,
                                 "a version bound it while it was being deleted"))


def _sweep_local_scratch(store: ObjectStore, older_than: timedelta, report: _Sweep) -> None:
    """A local store's stale temp and unused lock files (S3 stores have none)."""
    owner = scratch_owner(store)
    if owner is not None:
        for left in owner.remove_scratch_leftovers(older_than, dry_run=report.dry_run):
            report.deleted.append(_item(left.path, left.size, left.last_modified, left.reason))
