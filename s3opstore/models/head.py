"""The op head: the one mutable object per op, and the commit point of its versions.

It lives apart from :mod:`s3opstore.models.manifests` because it carries an
:class:`~s3opstore.models.events.Event`, which is itself a manifest. Models do no I/O.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field

from s3opstore.models.events import Event
from s3opstore.models.manifests import Tokened, VersionManifest, VersionRecord
from s3opstore.models.seen import maybe_seen, seen_with

__all__ = ["RECENT_VERSIONS", "OpHead", "fingerprint"]

RECENT_VERSIONS = 64
# A head that holds a previous version is must-understand for it (D2, D13).
_PREVIOUS_FIELDS = ["previous", "previous_event"]


def fingerprint(vid: str) -> str:
    """48 bits of a version id: enough that a miss proves absence, and a rare false
    hit only costs the LIST the window saves."""
    return hashlib.sha256(vid.encode()).hexdigest()[:12]


class OpHead(Tokened):
    """The op's latest version and small state, moved only by compare-and-swap.

    Invariant (design.md, D2 and D16): every committed version other than
    ``latest`` and ``previous`` has a listing entry and a stored event,
    because a writer makes sure ``previous`` has both *before* its CAS drops it
    from the head. ``event`` and ``previous_event`` are those two versions'
    events until then (None in heads written before version events rode in the
    head). ``previous`` is the entry body of the version ``latest`` replaced
    (None in an op's first head, and in heads written before it was kept): a
    writer that won under contention lists its own version right after its
    CAS, so the writer that drops it two commits later finds it listed, and
    the head's critical section is a GET, a HEAD and the CAS. ``idempotency``
    lists recent (idempotency-key digest, vid) pairs, oldest first and
    bounded, so a reused key is recognised. ``recent`` holds the
    :func:`fingerprint` of the last versions' ids, oldest first, the last
    being ``latest``'s (empty in heads written before it): it answers "is this
    version one of the last few?" without the LIST of the version's entries.
    ``seen`` is a Bloom filter (:mod:`s3opstore.models.seen`) of every version id
    with a seq from ``seen_from`` on, so "is this version new?" needs no LIST
    either while the op is not much larger than 2,000 versions (None in heads
    written before it).
    """

    kind: Literal["op-head"] = "op-head"
    op_name: str
    latest: VersionRecord
    idempotency: list[tuple[str, str]] = Field(default_factory=list)
    event: Event | None = None
    previous: VersionManifest | None = None
    previous_event: Event | None = None
    recent: list[str] = Field(default_factory=list, max_length=RECENT_VERSIONS)
    seen: str | None = Field(default=None, max_length=4096)
    seen_from: int = Field(default=0, ge=0)
    # D13: fields a reader must know to use this head. ``previous`` is one (set by
    # ``followed_by``): a reader unaware of it would miss that version in a listing, and
    # a writer unaware of it would drop it from the head unlisted. An older release
    # refuses such a head.
    must_understand: list[str] = Field(default_factory=list)

    @classmethod
    def first(cls, record: VersionRecord, token: str, idempotency: list[tuple[str, str]],
              event: Event) -> OpHead:
        """The head that commits an op's first version ``record``."""
        vid = record.version.vid
        return cls(op_name=record.op_name, latest=record, token=token,
                   idempotency=idempotency, event=event, recent=[fingerprint(vid)],
                   seen=seen_with(None, vid))

    def followed_by(self, record: VersionRecord, token: str,
                    idempotency: list[tuple[str, str]], event: Event) -> OpHead:
        """The head that commits ``record`` after this one: this head's latest becomes
        its ``previous`` (this one's ``previous`` leaves the head, so it must be listed
        first, D2), and the window and filter of seen versions grow by ``record``."""
        vid = record.version.vid
        seen, seen_from = self._seen_next(vid, record.seq)
        return OpHead(op_name=self.op_name, latest=record, token=token,
                      idempotency=idempotency, event=event,
                      previous=VersionManifest(record=self.latest, token=self.token),
                      previous_event=self.event,
                      recent=[*self.recent, fingerprint(vid)][-RECENT_VERSIONS:],
                      seen=seen, seen_from=seen_from, must_understand=_PREVIOUS_FIELDS)

    def carried(self) -> list[VersionRecord]:
        """The versions the head itself holds, which may not be listed yet."""
        return [self.latest] + ([self.previous.record] if self.previous is not None else [])

    def carried_events(self) -> list[Event]:
        """Their events, which may not be stored in the version chain yet."""
        return [e for e in (self.event, self.previous_event) if e is not None]

    def rules_out(self, vid: str, since: int) -> bool:
        """Whether ``seen`` or ``recent`` proves no version ``vid`` has a seq in
        [since, latest]."""
        if self.seen is not None and self.seen_from <= since and not maybe_seen(self.seen,
                                                                                 vid):
            return True
        first = self.latest.seq - len(self.recent) + 1
        return first <= since and fingerprint(vid) not in self.recent

    def _seen_next(self, vid: str, seq: int) -> tuple[str | None, int]:
        """``seen`` and ``seen_from`` for the head committing ``vid`` at ``seq`` after this
        one: this filter plus ``vid``, or a new one from ``seq`` if there is none."""
        if self.seen is not None:
            grown = seen_with(self.seen, vid)
            if grown is not None:
                return grown, self.seen_from
        return seen_with(None, vid), seq
