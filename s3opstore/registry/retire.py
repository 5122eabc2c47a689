"""Retirement without deletion: deprecate or archive a version, hide an op.

A status is a create-only log like an alias (``status/<op>/v/<vid>/`` for a
version, ``status/<op>/op/`` for the op), so every change is kept with who
made it, when and why, and concurrent changes serialise. Nothing is ever
deleted: manifests stay immutable and ``gc`` only removes blobs no byte
binding references, so a retired version keeps its bytes.

- A **deprecated** version still loads, with a warning
  (:class:`RetiredVersionWarning`); an **archived** one is refused by
  :func:`check_loadable` unless the caller allows it. The checks are made by
  the loaders that name versions (``load_model``, ``s3opstore pull``); the
  Chariots-compatible byte loads keep their request budget and do not check.
- A **hidden** op is left out of ``list_ops`` and ``search_ops`` (ask for
  ``include_hidden``) but everything in it stays readable by name.
"""

from __future__ import annotations

import warnings
from typing import Literal

from s3opstore.errors import InvalidInputError, OpNotFoundError
from s3opstore.models.keys import STATUS_PREFIX, decode_names, status_key, status_prefix
from s3opstore.models.manifests import StatusManifest, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry import logged
from s3opstore.registry import versions as _versions
from s3opstore.registry.commit import Done, Put, Snapshot, new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.registry.pipelines import op_exists

__all__ = ["RetiredVersionError", "RetiredVersionWarning", "VersionState", "check_loadable",
           "hidden_ops", "judge_loadable", "set_status", "status", "status_history"]

VersionState = Literal["active", "deprecated", "archived"]
_VERSION_STATES = ("active", "deprecated", "archived")
_OP_STATES = ("active", "hidden")


class RetiredVersionWarning(UserWarning):
    """Loading a deprecated version."""


class RetiredVersionError(InvalidInputError):
    """Loading an archived version without allowing it (HTTP 400 ``invalid_input``)."""


def _newest(ctx: Context, op: str, version: Version | None) -> StatusManifest | None:
    snapshot = ctx.committer.newest(status_prefix(op, version), StatusManifest)
    return None if snapshot is None else snapshot.value


def status(ctx: Context, op: str, version: Version | None) -> StatusManifest | None:
    """The current status entry, or None (never changed: active)."""
    return _newest(ctx, op, version)


def status_history(ctx: Context, op: str, version: Version | None) -> list[StatusManifest]:
    return ctx.committer.history(status_prefix(op, version), StatusManifest)


def set_status(ctx: Context, op: str, version: Version | None, state: str,
               reason: str | None, idempotency_key: str | None) -> StatusManifest:
    allowed = _OP_STATES if version is None else _VERSION_STATES
    if state not in allowed:
        what = "an op" if version is None else "a version"
        raise InvalidInputError(f"state {state!r} is not one of {', '.join(allowed)} for {what}")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1024):
        raise InvalidInputError("reason must be text of at most 1024 characters")
    if version is not None:
        version = _versions.require_version(ctx, op, version).version
    elif not op_exists(ctx, op):
        raise OpNotFoundError(f"op {op!r} is not known to the store")
    token = new_token(idempotency_key,
                      scope=f"status\0{op}\0{version.vid if version else ''}\0{state}")
    identity = ctx.identity

    def decide(newest: Snapshot[StatusManifest] | None,
               seq: int) -> Done[StatusManifest] | Put[StatusManifest, StatusManifest]:
        current = newest.value if newest is not None else None
        if current is not None and (current.token == token or (
                current.state == state and current.reason == reason)):
            return Done(current)
        entry = StatusManifest(op_name=op, version=version, seq=seq, state=state,
                               reason=reason, token=token, registered_at=utc_now_ms(),
                               registered_host=identity.host, registered_pid=identity.pid)
        return Put(entry, entry)

    return logged.append(ctx, Subject("status.set", op, version.vid if version else None, state),
                         status_prefix(op, version), lambda seq: status_key(op, version, seq),
                         StatusManifest, decide)


def hidden_ops(ctx: Context) -> set[str]:
    """Ops whose current status is hidden (1 LIST, then 1 LIST + GET per op with a status)."""
    hidden = set()
    for op in decode_names(ctx.store.list_dirs(STATUS_PREFIX)):
        entry = _newest(ctx, op, None)
        if entry is not None and entry.state == "hidden":
            hidden.add(op)
    return hidden


def check_loadable(ctx: Context, op: str, version: Version, *,
                   allow_archived: bool = False) -> StatusManifest | None:
    """Warn for a deprecated version, refuse an archived one (unless allowed)."""
    return judge_loadable(_newest(ctx, op, version), op, version,
                          allow_archived=allow_archived, stacklevel=4)


def judge_loadable(entry: StatusManifest | None, op: str, version: Version, *,
                   allow_archived: bool = False, stacklevel: int = 3) -> StatusManifest | None:
    """What :func:`check_loadable` does with a status entry already read (a cached one)."""
    if entry is None or entry.state == "active":
        return entry
    why = f" ({entry.reason})" if entry.reason else ""
    if entry.state == "archived" and not allow_archived:
        raise RetiredVersionError(
            f"version {version} of op {op!r} is archived{why}; allow archived versions to "
            "load it anyway")
    warnings.warn(f"version {version} of op {op!r} is {entry.state}{why}",
                  RetiredVersionWarning, stacklevel=stacklevel)
    return entry
