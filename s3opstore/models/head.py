"""The op head: the one mutable object per op, and the commit point of its versions.

It lives apart from :mod:`s3opstore.models.manifests` because it carries an
:class:`~s3opstore.models.events.Event`, which is itself a manifest. Models do no I/O.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from s3opstore.models.events import Event
from s3opstore.models.manifests import Tokened, VersionRecord

__all__ = ["OpHead"]


class OpHead(Tokened):
    """The op's latest version and small state, moved only by compare-and-swap.

    Invariant (design.md, D2 and D16): every committed version other than
    ``latest`` has a listing entry and a stored event, because a writer
    writes the current latest's event and entry *before* its CAS moves the
    head past it. ``event`` is the latest version's event until then (None in
    heads written before version events rode in the head). ``idempotency``
    lists recent (idempotency-key digest, vid) pairs, oldest first and
    bounded, so a reused key is recognised.
    """

    kind: Literal["op-head"] = "op-head"
    op_name: str
    latest: VersionRecord
    idempotency: list[tuple[str, str]] = Field(default_factory=list)
    event: Event | None = None
