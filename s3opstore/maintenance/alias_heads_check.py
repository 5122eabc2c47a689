"""fsck's look at alias heads: each must mirror the newest position of its alias's history.

A head behind its history is ``stale_alias_head``: a writer died between its
history append and its head move, or a release from before heads moved the
alias (design.md, D17). Readers see the head's position until the next move
or ``gc`` rolls it forward; fsck itself never writes. A head naming a
position the history does not hold is ``bad_alias_head``; one whose alias has
no history at all is ``orphan_alias_head``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s3opstore.maintenance.fsck_report import Findings
from s3opstore.maintenance.fsck_walk import FsckContext
from s3opstore.models.keys import alias_prefix, parse_alias_head_key
from s3opstore.models.manifests import AliasHead, AliasManifest
from s3opstore.stores.base import ObjectStore

__all__ = ["check_alias_heads"]

Read = Callable[[str, type[Any]], Any]


def _newest(store: ObjectStore, op: str, alias: str, read: Read) -> AliasManifest | None:
    for info in store.list(alias_prefix(op, alias), limit=1):
        found: AliasManifest | None = read(info.key, AliasManifest)
        return found
    return None


def check_alias_heads(ctx: FsckContext, findings: Findings) -> None:
    """Check every alias head the walk found."""
    findings.count("alias heads", len(ctx.alias_heads))
    store, read, add = ctx.store, ctx.read, findings.add
    for key in ctx.alias_heads:
        try:
            op, alias = parse_alias_head_key(key)
        except ValueError as exc:
            add(key, "bad_key", str(exc))
            continue
        head: AliasHead | None = read(key, AliasHead)
        if head is None:
            continue
        at = head.position
        if (at.op_name, at.alias) != (op, alias):
            add(key, "wrong_op", f"alias head body names {at.op_name}@{at.alias}")
            continue
        newest = _newest(store, op, alias, read)
        if newest is None:
            add(key, "orphan_alias_head", f"alias {op}@{alias} has a head but no history")
        elif at.seq < newest.seq:
            add(key, "stale_alias_head",
                f"head of alias {op}@{alias} is at position {at.seq} ({_where(at)}) but its "
                f"history's newest is {newest.seq} ({_where(newest)}): a mover died before "
                "moving the head, or an older release moved the alias; `s3opstore gc` or the "
                "next move of the alias rolls it forward")
        elif at.seq > newest.seq or at.token != newest.token:
            add(key, "bad_alias_head",
                f"head of alias {op}@{alias} names position {at.seq} ({_where(at)}), which its "
                "history does not hold")


def _where(position: AliasManifest) -> str:
    return "deleted" if position.deleted else f"-> {position.version}"
