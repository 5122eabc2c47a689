"""The history's record: one event per registry write, hash-chained per subject.

An :class:`Event` says who wrote what, when, which manifest (its key and the
SHA-256 of what was written) and links to the previous event of its chain by
that event's ``digest``. ``digest`` covers every other field of the event
(:func:`event_digest`, the canonical JSON of the model without ``digest``), so
editing an event without recomputing it is visible in the event itself, and
recomputing it breaks the next event's ``prev``. Only the newest event of a
chain is protected by its own digest alone (design.md, D16).

Chains are per op (``op`` names it) plus one store-level chain (``op`` None)
for pipelines, so writers to different ops never serialise on one object; a
link's event has the chain of the upstream version it validates (``op`` and
``version`` name it), so the links of one busy op do not serialise either.
Models do no I/O.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

import orjson
from pydantic import Field, field_validator

from s3opstore.models.digests import Sha256
from s3opstore.models.manifests import Tokened

__all__ = ["ACTIONS", "Action", "Event", "event_digest", "event_token", "manifest_digest"]

Action = Literal[
    "version.register", "metadata.register", "bytes.bind", "link.register", "op.declare",
    "pipeline.register", "alias.set", "alias.delete", "tags.set", "status.set",
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]


class Event(Tokened):
    """The ``seq``-th event of a chain (the op's, the store's when ``op`` is None, or,
    for a link, that of ``op``'s ``version``; an op's own chain in a store of format 1).

    ``version`` is a version id, ``name`` the other subject of the write (an
    alias, a pipeline, a link's downstream op). ``recovered`` marks an event
    ``fsck --repair`` appended for a write whose writer died before logging it.
    """

    kind: Literal["event"] = "event"
    op: str | None
    seq: int = Field(ge=0)
    prev: Sha256 | None
    digest: Sha256
    at: datetime
    actor: str = Field(min_length=1, max_length=256)
    host: str
    pid: int
    action: Action
    version: str | None = None
    name: str | None = None
    manifest_key: str
    manifest_sha256: Sha256
    recovered: bool = False

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def intact(self) -> bool:
        """Whether ``digest`` still matches the rest of the event."""
        return event_digest(self) == self.digest


def event_digest(event: Event) -> str:
    """SHA-256 of the event's canonical JSON without its ``digest`` field."""
    body = event.model_dump(mode="json", exclude={"digest"})
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def manifest_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def event_token(manifest_key: str, manifest_sha256: str) -> str:
    """One token per logged write: a read-back after a lost response recognises it,
    and two writers logging different writes never share one."""
    return hashlib.sha256(f"{manifest_key}\0{manifest_sha256}".encode()).hexdigest()[:32]
