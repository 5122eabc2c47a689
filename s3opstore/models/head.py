"""The op head: the one mutable object per op, and the commit point of its versions.

It lives apart from :mod:`s3opstore.models.manifests` because it carries an
:class:`~s3opstore.models.events.Event`, which is itself a manifest. Models do no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from s3opstore.models.events import Event
from s3opstore.models.manifests import Tokened, VersionManifest, VersionRecord, _Frozen
from s3opstore.models.seen import maybe_seen, seen_with

__all__ = ["MAX_BATCH", "MAX_CARRIED", "RECENT_VERSIONS", "HeldVersion", "OpHead", "fingerprint"]

RECENT_VERSIONS = 64
# The most versions one compare-and-swap commits (D18): bounds the head (two batches of
# records and events, ~1 KiB each) and the writer's work inside the serial step.
MAX_BATCH = 8
# The most versions a head holds besides ``latest``, its batch and ``previous``: under
# contention a version whose committer has not stored it yet stays (D18).
MAX_CARRIED = 2 * MAX_BATCH
# A head that holds a previous version is must-understand for it (D2, D13); one that
# holds a batch for the batch fields too (D18): a release from before would drop those
# versions from the head unlisted, or miss them in a listing.
_PREVIOUS_FIELDS = ["previous", "previous_event"]
_BATCH_FIELDS = ["batch", "previous_batch"]


def fingerprint(vid: str) -> str:
    """48 bits of a version id: enough that a miss proves absence, and a rare false
    hit only costs the LIST the window saves."""
    return hashlib.sha256(vid.encode()).hexdigest()[:12]


class HeldVersion(_Frozen):
    """A committed version the head holds besides ``latest``: the listing entry it gets
    when it leaves the head (the token of the head that committed it), and its event."""

    manifest: VersionManifest
    event: Event | None = None


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
    written before it). ``batch`` holds the versions committed by the same CAS
    as ``latest`` and before it (a group commit, D18), ``previous_batch`` those
    committed with ``previous``, and older ones whose committer had not stored
    them when the CAS after theirs looked (oldest first); both are empty when one
    CAS committed one version, and a CAS drops ``previous`` and
    ``previous_batch`` together, but for what is not stored yet.
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
    batch: list[HeldVersion] = Field(default_factory=list, max_length=MAX_BATCH - 1)
    previous_batch: list[HeldVersion] = Field(default_factory=list, max_length=MAX_CARRIED)
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
                    idempotency: list[tuple[str, str]], event: Event,
                    mates: Sequence[tuple[VersionRecord, Event]] = (),
                    carried: Sequence[HeldVersion] = ()) -> OpHead:
        """The head that commits ``record`` after this one, with ``mates`` (versions of
        other writers committed by the same CAS, seqs just before ``record``'s, D18):
        this head's latest becomes ``previous`` and its batch ``previous_batch`` (what
        this head holds as previous leaves it, so it must be listed first, D2, but for
        ``carried``: versions it held as previous that are not stored yet, which stay,
        oldest first, D18), and the window and filter of seen versions grow by every
        committed version."""
        seen, seen_from = self.seen, self.seen_from
        recent = list(self.recent)
        for committed, _event in [*mates, (record, event)]:
            vid = committed.version.vid
            seen, seen_from = _seen_next(seen, seen_from, vid, committed.seq)
            recent.append(fingerprint(vid))
        batch = [HeldVersion(manifest=VersionManifest(record=mate, token=token), event=held)
                 for mate, held in mates]
        held = [*carried, *self.batch]
        fields = _PREVIOUS_FIELDS + (_BATCH_FIELDS if batch or held else [])
        return OpHead(op_name=self.op_name, latest=record, token=token,
                      idempotency=idempotency, event=event,
                      previous=VersionManifest(record=self.latest, token=self.token),
                      previous_event=self.event,
                      recent=recent[-RECENT_VERSIONS:], seen=seen, seen_from=seen_from,
                      batch=batch, previous_batch=held, must_understand=fields)

    def held(self) -> list[HeldVersion]:
        """Every version the head holds, newest first, as the entry and event each gets."""
        own = [HeldVersion(manifest=VersionManifest(record=self.latest, token=self.token),
                           event=self.event), *reversed(self.batch)]
        return own + self.dropped_next()

    def dropped_next(self) -> list[HeldVersion]:
        """What the next CAS drops from the head: ``previous`` and its batch."""
        if self.previous is None:
            return []
        return [HeldVersion(manifest=self.previous, event=self.previous_event),
                *reversed(self.previous_batch)]

    def carried(self) -> list[VersionRecord]:
        """The versions the head itself holds, which may not be listed yet."""
        return [held.manifest.record for held in self.held()]

    def carried_events(self) -> list[Event]:
        """Their events, which may not be stored in the version chain yet."""
        return [held.event for held in self.held() if held.event is not None]

    def rules_out(self, vid: str, since: int) -> bool:
        """Whether ``seen`` or ``recent`` proves no version ``vid`` has a seq in
        [since, latest]."""
        if self.seen is not None and self.seen_from <= since and not maybe_seen(self.seen,
                                                                                 vid):
            return True
        first = self.latest.seq - len(self.recent) + 1
        return first <= since and fingerprint(vid) not in self.recent


def _seen_next(seen: str | None, seen_from: int, vid: str, seq: int) -> tuple[str | None, int]:
    """``seen`` and ``seen_from`` once ``vid`` is committed at ``seq``: the filter plus
    ``vid``, or a new one from ``seq`` if there is none (or it cannot take more)."""
    if seen is not None:
        grown = seen_with(seen, vid)
        if grown is not None:
            return grown, seen_from
    return seen_with(None, vid), seq
