"""``POST /v1/log``: the history of writes, newest first (design.md, D16).

With ``op_name``: that op's history (its chain, its versions' chain and its
versions' link chains); without: every chain merged by time. Each
event comes as stored, digests included, so a client can check the chain
itself. Reading the history costs the log's own requests only; no other route
reads it.
"""

from __future__ import annotations

from pydantic import Field

from s3opstore.api import models as m
from s3opstore.api.types import Call
from s3opstore.models.events import Event
from s3opstore.registry.events import history
from s3opstore.registry.opstore import OpStore

__all__ = ["EventInfo", "LogRequest", "LogResponse", "log"]


class LogRequest(m._Request):
    op_name: m.OpName | None = Field(default=None, description="one op's history; null: all")
    limit: int = Field(default=50, ge=1, le=1000, description="at most this many events")


class EventInfo(m._Response):
    op: str | None = Field(description="the op whose chain holds it, or null for the "
                           "store's own (a link's: its upstream op)")
    seq: int = Field(description="its number in its chain: the op's, its versions', or "
                     "(a link's) its upstream version's")
    prev: str | None = Field(description="digest of the previous event of the chain (for "
                             "a version: of the previous version's event; for a link: of "
                             "the previous link event of its upstream version)")
    digest: str = Field(description="SHA-256 of this event's other fields, canonical JSON")
    at: str
    actor: str
    host: str
    pid: int
    action: str
    version: str | None = Field(description="the version id the write was about")
    name: str | None = Field(description="alias, pipeline, link downstream op, or status")
    manifest_key: str
    manifest_sha256: str
    recovered: bool = Field(description="appended by fsck --repair after a lost event")


class LogResponse(m._Response):
    op_name: str | None
    events: list[EventInfo]


def _info(event: Event) -> EventInfo:
    return EventInfo(op=event.op, seq=event.seq, prev=event.prev, digest=event.digest,
                     at=event.at.isoformat(), actor=event.actor, host=event.host,
                     pid=event.pid, action=event.action, version=event.version,
                     name=event.name, manifest_key=event.manifest_key,
                     manifest_sha256=event.manifest_sha256, recovered=event.recovered)


def log(store: OpStore, req: LogRequest, call: Call) -> LogResponse:
    events = history(store.store, req.op_name, every=req.op_name is None, limit=req.limit)
    return LogResponse(op_name=req.op_name, events=[_info(event) for event in events])
