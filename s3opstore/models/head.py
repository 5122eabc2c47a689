"""The op head: the one mutable object per op, and the commit point of its versions.

It lives apart from :mod:`s3opstore.models.manifests` because it carries an
:class:`~s3opstore.models.events.Event`, which is itself a manifest. Models do no I/O.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field

from s3opstore.models.events import Event
from s3opstore.models.manifests import Tokened, VersionRecord

__all__ = ["RECENT_VERSIONS", "OpHead", "fingerprint"]

RECENT_VERSIONS = 64


def fingerprint(vid: str) -> str:
    """48 bits of a version id: enough that a miss proves absence, and a rare false
    hit only costs the LIST the window saves."""
    return hashlib.sha256(vid.encode()).hexdigest()[:12]


class OpHead(Tokened):
    """The op's latest version and small state, moved only by compare-and-swap.

    Invariant (design.md, D2 and D16): every committed version other than
    ``latest`` has a listing entry and a stored event, because a writer
    writes the current latest's event and entry *before* its CAS moves the
    head past it. ``event`` is the latest version's event until then (None in
    heads written before version events rode in the head). ``idempotency``
    lists recent (idempotency-key digest, vid) pairs, oldest first and
    bounded, so a reused key is recognised. ``recent`` holds the
    :func:`fingerprint` of the last versions' ids, oldest first, the last
    being ``latest``'s (empty in heads written before it): it answers "is this
    version one of the last few?" without the LIST of the version's entries.
    """

    kind: Literal["op-head"] = "op-head"
    op_name: str
    latest: VersionRecord
    idempotency: list[tuple[str, str]] = Field(default_factory=list)
    event: Event | None = None
    recent: list[str] = Field(default_factory=list, max_length=RECENT_VERSIONS)

    def rules_out(self, vid: str, since: int) -> bool:
        """Whether ``recent`` proves no version ``vid`` has a seq in [since, latest]."""
        first = self.latest.seq - len(self.recent) + 1
        return first <= since and fingerprint(vid) not in self.recent

    def recent_with(self, vid: str) -> list[str]:
        """``recent`` for the head whose latest is ``vid``, committed after this one."""
        return [*self.recent, fingerprint(vid)][-RECENT_VERSIONS:]
