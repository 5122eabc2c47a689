"""Retirement without deletion: delete an alias, deprecate or archive a version, hide an op.

Each appends to a create-only log; nothing is deleted (:mod:`s3opstore.registry.retire`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.models.manifests import StatusManifest
from s3opstore.registry.aliases import UNSET
from s3opstore.registry.opstore import OpStore

__all__ = ["DeleteAliasRequest", "DeletedAlias", "HideOpRequest", "SetVersionStatusRequest",
           "StatusInfo", "delete_alias", "hide_op", "set_version_status"]


class DeleteAliasRequest(m._Request):
    op_name: m.OpName
    alias: m.AliasName
    expected: str | None = Field(
        default=None, min_length=1, max_length=256,
        description="delete only if the alias points at this version now (any reference)")


class DeletedAlias(m._Response):
    op_name: str
    alias: str
    version: str = Field(description="where the alias pointed when it was deleted")
    seq: int = Field(description="the deletion's position in the alias's history")
    registered_at: str


def delete_alias(store: OpStore, req: DeleteAliasRequest, call: Call) -> DeletedAlias:
    entry = store.delete_alias(req.op_name, req.alias,
                               expected=UNSET if req.expected is None else req.expected,
                               idempotency_key=call.idempotency_key)
    return DeletedAlias(op_name=entry.op_name, alias=entry.alias, version=str(entry.version),
                        seq=entry.seq, registered_at=entry.registered_at.isoformat())


class SetVersionStatusRequest(m._Request):
    op_name: m.OpName
    ref: str = Field(min_length=1, max_length=256, description="the version (any reference)")
    state: Literal["active", "deprecated", "archived"]
    reason: str | None = Field(default=None, max_length=1024)


class HideOpRequest(m._Request):
    op_name: m.OpName
    hidden: bool = True
    reason: str | None = Field(default=None, max_length=1024)


class StatusInfo(m._Response):
    op_name: str
    version: str | None = Field(description="null: the op's own status")
    state: str
    reason: str | None
    seq: int = Field(description="position in the status history, from 0")
    registered_at: str


def _status(entry: StatusManifest) -> StatusInfo:
    return StatusInfo(op_name=entry.op_name,
                      version=None if entry.version is None else str(entry.version),
                      state=entry.state, reason=entry.reason, seq=entry.seq,
                      registered_at=entry.registered_at.isoformat())


def set_version_status(store: OpStore, req: SetVersionStatusRequest, call: Call) -> StatusInfo:
    return _status(store.set_version_status(req.op_name, req.ref, req.state, reason=req.reason,
                                            idempotency_key=call.idempotency_key))


def hide_op(store: OpStore, req: HideOpRequest, call: Call) -> StatusInfo:
    return _status(store.hide_op(req.op_name, hidden=req.hidden, reason=req.reason,
                                 idempotency_key=call.idempotency_key))
