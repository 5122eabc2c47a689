"""Retirement without deletion: ``delete_alias`` appends a deletion to the alias's log."""

from __future__ import annotations

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.registry.aliases import UNSET
from s3opstore.registry.opstore import OpStore

__all__ = ["DeleteAliasRequest", "DeletedAlias", "delete_alias"]


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
