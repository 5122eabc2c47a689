"""Alias heads: an alias read in one GET, kept by compare-and-swap after its history.

The protocol (design.md, D17):

- A move (or deletion) first appends its position to the alias's create-only
  history ``aliases/<op>/<alias>/<inv-seq>.json``. The history orders the moves
  (the next sequence number is claimed create-only) and is what ``expected``
  is decided against; it stays the audit trail.
- Then the head ``alias-heads/<op>/<alias>.json`` (:class:`AliasHead`) is
  moved to that position with ``If-Match`` on its ETag, and only *forward*: a
  head already at that sequence number or a higher one is left alone, so two
  movers finishing in either order leave the newer position. A move is
  acknowledged only after the head holds its sequence number or a higher one.
- Readers GET the head. Hence a reader never sees a position older than an
  acknowledged move. A writer that dies between its history append and its
  head move leaves the head one position behind the history: head readers see
  the previous position (the move was never acknowledged) until the next
  writer of that alias or ``gc`` rolls the head forward; ``fsck`` reports the
  gap as ``stale_alias_head``. A writer refused because of such a position
  (its ``expected`` check failed, or there is nothing left to delete) rolls the
  head forward first, so the next read agrees with the error it got.
- No head (404): a store written before heads existed, or an alias whose first
  writer died before creating it. Readers then read the history (LIST + GET),
  which is exactly right in both cases.

A release that predates heads moves aliases without moving heads; a head it
leaves behind is reported by ``fsck`` and rolled forward by ``gc`` or the next
writer of this release (design.md, D17: upgrade every writer).
"""

from __future__ import annotations

from s3opstore.models.codec import decode
from s3opstore.models.keys import (
    ALIAS_HEADS_PREFIX,
    alias_head_key,
    alias_prefix,
    parse_alias_head_key,
)
from s3opstore.models.manifests import AliasHead, AliasManifest, VersionRecord
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.versions import find_version

__all__ = ["catch_up", "current", "move_head", "newest_logged", "read_head",
           "read_head_if_changed", "repair_heads"]


def read_head(ctx: Context, op: str, alias: str) -> Snapshot[AliasHead] | None:
    return ctx.committer.read(alias_head_key(op, alias), AliasHead)


def read_head_if_changed(ctx: Context, op: str, alias: str,
                         etag: str) -> Snapshot[AliasHead] | None:
    """The head unless its ETag is still ``etag`` (None: unchanged, one 304).

    Raises ObjectNotFoundError when the alias has no head.
    """
    key = alias_head_key(op, alias)
    got = ctx.store.get_if_changed(key, etag)
    return None if got is None else Snapshot(key, decode(AliasHead, got.data, key), got.etag)


def newest_logged(ctx: Context, op: str, alias: str) -> AliasManifest | None:
    """The newest position in the history, a deletion included (1 LIST + 1 GET)."""
    snapshot = ctx.committer.newest(alias_prefix(op, alias), AliasManifest)
    return None if snapshot is None else snapshot.value


def current(ctx: Context, op: str,
            alias: str) -> tuple[AliasManifest, VersionRecord | None] | None:
    """The alias's position and, when the head holds it, its version's record.

    1 GET with a head; without one (older stores), the history: 1 GET + 1 LIST + 1 GET.
    """
    snapshot = read_head(ctx, op, alias)
    if snapshot is not None:
        return snapshot.value.position, snapshot.value.record
    newest = newest_logged(ctx, op, alias)
    return None if newest is None else (newest, None)


def move_head(ctx: Context, position: AliasManifest, record: VersionRecord | None) -> None:
    """Move the head forward to ``position`` (no-op when it is there or further)."""

    def decide(snapshot: Snapshot[AliasHead] | None) -> Done[None] | Put[AliasHead, None]:
        if snapshot is not None and snapshot.value.position.seq >= position.seq:
            return Done(None)
        return Put(AliasHead(position=position, record=record, token=new_token()), None)

    ctx.committer.update(alias_head_key(position.op_name, position.alias), AliasHead, decide)


def catch_up(ctx: Context, op: str, alias: str, *, create: bool = False) -> AliasManifest | None:
    """Roll a head that lags its history forward; returns the position it moved to.

    Only an existing head is moved unless ``create`` (readers of an alias without
    a head read the history, which is already right).
    """
    head = read_head(ctx, op, alias)
    if head is None and not create:
        return None
    newest = newest_logged(ctx, op, alias)
    if newest is None or (head is not None and head.value.position.seq >= newest.seq):
        return None
    record = None if newest.deleted else find_version(ctx, op, newest.version)
    move_head(ctx, newest, record)
    return newest


def repair_heads(ctx: Context, *, dry_run: bool = False) -> list[tuple[str, str, int]]:
    """Roll every head that lags its history forward (gc); returns (op, alias, seq) moved.

    Heads whose key does not parse are left for fsck to name.
    """
    moved = []
    for info in ctx.store.list(ALIAS_HEADS_PREFIX):
        try:
            op, alias = parse_alias_head_key(info.key)
        except ValueError:
            continue
        if dry_run:
            head, newest = read_head(ctx, op, alias), newest_logged(ctx, op, alias)
            if head is not None and newest is not None and head.value.position.seq < newest.seq:
                moved.append((op, alias, newest.seq))
            continue
        position = catch_up(ctx, op, alias)
        if position is not None:
            moved.append((op, alias, position.seq))
    return moved
