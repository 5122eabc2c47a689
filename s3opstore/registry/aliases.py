"""Aliases: named, movable pointers to versions of an op (``production``...).

Each alias is a create-only log ``aliases/<op>/<alias>/<inv-seq>.json``;
moving it appends the next position, so the history is kept and concurrent
moves are serialised by the create-only write of the next sequence number.
``expected`` turns a move into a compare-and-swap on the alias's target.
Deleting an alias appends a position marked ``deleted``: the alias then reads
as absent (and is not listed) but its whole history, the deletion included,
stays; setting it again appends the next position.

After the append, the alias's head is moved forward to the new position
(:mod:`s3opstore.registry.alias_heads`), and readers read the head: one GET.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable
from typing import Final, Literal

from s3opstore.errors import AliasNotFoundError, ConflictError, S3OpStoreError
from s3opstore.models.keys import alias_key, alias_prefix, aliases_prefix, decode_names
from s3opstore.models.manifests import AliasManifest, VersionRecord, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry import alias_heads as _heads
from s3opstore.registry import logged
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.registry.versions import find_version, require_version

__all__ = ["UNSET", "Unset", "alias_history", "delete_alias", "get_alias", "get_alias_record",
           "list_aliases", "newest_position", "set_alias"]


class Unset(enum.Enum):
    """The type of :data:`UNSET`: "no condition given", distinct from ``None``.

    ``expected=None`` means "the alias must not exist yet"; ``expected=UNSET`` (the
    default) means "no condition". An enum of one member, so a type checker narrows
    ``Version | Unset | None`` with ``is UNSET`` or ``isinstance(x, Unset)``.
    """

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Literal[Unset.UNSET]] = Unset.UNSET


def _read(ctx: Context, key: str) -> AliasManifest:
    snapshot = ctx.committer.read(key, AliasManifest)
    if snapshot is None:
        raise AliasNotFoundError(f"alias position {key!r} vanished after being listed")
    return snapshot.value


def newest_position(ctx: Context, op: str, alias: str) -> AliasManifest | None:
    """The alias's current position, a deletion included (its head: 1 GET)."""
    found = _heads.current(ctx, op, alias)
    return None if found is None else found[0]


def _current(ctx: Context, op: str, alias: str) -> tuple[AliasManifest, VersionRecord | None]:
    found = _heads.current(ctx, op, alias)
    if found is None:
        raise AliasNotFoundError(f"op {op!r} has no alias {alias!r}")
    entry = found[0]
    if entry.deleted:
        raise AliasNotFoundError(
            f"alias {alias!r} of op {op!r} was deleted (it pointed at {entry.version}); "
            "its history is kept")
    return found


def get_alias(ctx: Context, op: str, alias: str) -> AliasManifest:
    """The alias's current position (1 GET of its head; the history when it has none)."""
    return _current(ctx, op, alias)[0]


def get_alias_record(ctx: Context, op: str, alias: str) -> VersionRecord:
    """The registered record the alias points at: 1 GET when the head holds it."""
    entry, record = _current(ctx, op, alias)
    return record if record is not None else require_version(ctx, op, entry.version)


def _append_then_move(ctx: Context, op: str, alias: str, subject: Subject,
                      decide: Callable[[Snapshot[AliasManifest] | None, int],
                                       Done[AliasManifest] | Put[AliasManifest, AliasManifest]],
                      record: VersionRecord | None) -> AliasManifest:
    """Append to the history, then move the head there: acknowledged only after both.

    A refused condition may have been decided on a position whose writer died
    before moving the head; the head is rolled forward before the error is
    raised, so what readers see next agrees with the error.
    """
    try:
        position = logged.append(ctx, subject, alias_prefix(op, alias),
                                 lambda seq: alias_key(op, alias, seq), AliasManifest, decide)
    except (ConflictError, AliasNotFoundError):
        with contextlib.suppress(S3OpStoreError):  # best effort: the refusal is the answer
            _heads.catch_up(ctx, op, alias)
        raise
    if position.deleted:
        record = None
    elif record is None or record.version != position.version:
        record = find_version(ctx, op, position.version)
    _heads.move_head(ctx, position, record)
    return position


def alias_history(ctx: Context, op: str, alias: str) -> list[AliasManifest]:
    """Every position the alias took, oldest first."""
    entries = [_read(ctx, info.key) for info in ctx.store.list(alias_prefix(op, alias))]
    return sorted(entries, key=lambda entry: entry.seq)


def list_aliases(ctx: Context, op: str, *, include_deleted: bool = False) -> list[str]:
    """Alias names; deleted ones only with ``include_deleted`` (else 1 LIST + 1 GET each,
    of the alias's head)."""
    names = decode_names(ctx.store.list_dirs(aliases_prefix(op)))
    if include_deleted:
        return names
    return [name for name in names
            if (entry := newest_position(ctx, op, name)) is not None and not entry.deleted]


def delete_alias(ctx: Context, op: str, alias: str, *,
                 expected: Version | Unset = UNSET,
                 idempotency_key: str | None = None) -> AliasManifest:
    """Append a deletion; raises AliasNotFoundError when the alias does not exist now.

    ``expected``: delete only if the alias points at this version now.
    """
    token = new_token(idempotency_key, scope=f"alias-delete\0{op}\0{alias}")
    identity = ctx.identity

    def decide(newest: Snapshot[AliasManifest] | None,
               seq: int) -> Done[AliasManifest] | Put[AliasManifest, AliasManifest]:
        current = newest.value if newest is not None else None
        if current is not None and current.deleted and current.token == token:
            return Done(current)  # our own deletion landed (a retry)
        if current is None or current.deleted:
            raise AliasNotFoundError(f"op {op!r} has no alias {alias!r} to delete")
        if not isinstance(expected, Unset) and current.version != expected:
            raise ConflictError(f"alias {alias!r} of op {op!r} points at {current.version}; "
                                f"the deletion required that it points at {expected}")
        entry = AliasManifest(
            op_name=op, alias=alias, seq=seq, version=current.version, token=token,
            idempotency_key=idempotency_key, registered_at=utc_now_ms(),
            registered_host=identity.host, registered_pid=identity.pid, deleted=True)
        return Put(entry, entry)

    return _append_then_move(ctx, op, alias, Subject("alias.delete", op, None, alias), decide,
                             None)


def set_alias(ctx: Context, op: str, alias: str, version: Version, *,
              expected: Version | Unset | None = UNSET,
              idempotency_key: str | None = None) -> AliasManifest:
    """Point ``alias`` at ``version`` (which must be registered).

    ``expected``: the version the alias must point at now (None: must not
    exist yet); anything else raises :class:`ConflictError` and changes nothing.
    """
    record = require_version(ctx, op, version)
    token = new_token(idempotency_key, scope=f"alias\0{op}\0{alias}",
                      content=record.version.vid)
    identity = ctx.identity

    def decide(newest: Snapshot[AliasManifest] | None,
               seq: int) -> Done[AliasManifest] | Put[AliasManifest, AliasManifest]:
        current = newest.value if newest is not None else None
        if current is not None and current.token == token:
            return Done(current)
        if current is not None and current.deleted:
            current = None  # a deleted alias is set again as if new (its history stays)
        if idempotency_key is not None and current is not None:
            for entry in alias_history(ctx, op, alias):
                if entry.token == token:
                    return Done(entry)
                if entry.idempotency_key == idempotency_key:
                    raise ConflictError(
                        f"idempotency key {idempotency_key!r} was already used to move alias "
                        f"{alias!r} of op {op!r} to {entry.version}, not {record.version}")
        if current is not None and current.version == record.version:
            return Done(current)  # already there: a retry of a move that landed is no conflict
        if not isinstance(expected, Unset):
            now = current.version if current is not None else None
            if now != expected:
                where = ("does not exist yet" if now is None else f"points at {now}")
                wanted = ("that it does not exist yet" if expected is None
                          else f"that it points at {expected}")
                raise ConflictError(
                    f"alias {alias!r} of op {op!r} {where}; the move required {wanted}")
        entry = AliasManifest(
            op_name=op, alias=alias, seq=seq, version=record.version, token=token,
            idempotency_key=idempotency_key, registered_at=utc_now_ms(),
            registered_host=identity.host, registered_pid=identity.pid)
        return Put(entry, entry)

    return _append_then_move(ctx, op, alias, Subject("alias.set", op, record.version.vid, alias),
                             decide, record)
