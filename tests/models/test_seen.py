"""The op head's filter of registered version ids (design.md, D2).

It may only ever prove absence: a version it was given must never be ruled out,
whatever else was added, and a damaged filter must prove nothing.
"""

from __future__ import annotations

import base64

from s3opstore.models.head import OpHead
from s3opstore.models.manifests import VersionRecord
from s3opstore.models.seen import SEEN_BITS, maybe_seen, seen_with
from s3opstore.models.version import Version
from s3opstore.registry.context import Context
from s3opstore.registry.events import version_event
from s3opstore.stores.memory import MemoryStore


def _vid(i: int) -> str:
    return Version.from_parts(major=f"m{i}").vid


def _filled(n: int) -> str:
    seen: str | None = None
    for i in range(n):
        seen = seen_with(seen, _vid(i))
    assert seen is not None
    return seen


def test_no_version_given_is_ever_ruled_out() -> None:
    seen = _filled(2000)
    assert all(maybe_seen(seen, _vid(i)) for i in range(2000))


def test_false_positives_stay_rare_at_a_thousand_versions() -> None:
    seen = _filled(1000)
    hits = sum(maybe_seen(seen, _vid(i)) for i in range(1000, 21000))
    assert hits < 100  # 0.5% of 20,000; the design figure is under 0.1%


def test_a_damaged_filter_proves_nothing_and_is_not_carried_on() -> None:
    for damaged in ("not base64!", base64.b64encode(b"short").decode(),
                    base64.b64encode(bytes(SEEN_BITS // 8 + 1)).decode()):
        assert maybe_seen(damaged, _vid(1))
        assert seen_with(damaged, _vid(1)) is None


def _record(seq: int, vid_index: int | None = None) -> VersionRecord:
    version = (Version.from_parts(major="latest") if vid_index is None
               else Version.from_parts(major=f"m{vid_index}"))
    return VersionRecord(op_name="op", version=version, number=(1, 0, 0), seq=seq,
                         registered_at="2025-01-01T00:00:00Z", registered_host="h",
                         registered_pid=1)


# the event the next head carries; the filter does not depend on it
_EVENT = version_event(Context(MemoryStore()), _record(3, 3), None)


def _head(seq: int, seen: str | None, seen_from: int = 0) -> OpHead:
    return OpHead(op_name="op", latest=_record(seq), token="a" * 16, seen=seen,
                  seen_from=seen_from)


def _next(head: OpHead) -> tuple[str | None, int]:
    """The filter and its start in the head that commits version 3 after ``head``."""
    following = head.followed_by(_record(3, 3), "b" * 16, [], event=_EVENT)
    return following.seen, following.seen_from


def test_the_filter_rules_out_only_from_where_it_starts() -> None:
    seen = _filled(10)
    assert _head(99, seen).rules_out(_vid(500), since=0)
    assert not _head(99, seen).rules_out(_vid(5), since=0)  # it was registered
    # a filter started at seq 40 (a head from older code had none) says nothing about 0-39
    assert not _head(99, seen, seen_from=40).rules_out(_vid(500), since=0)
    assert _head(99, seen, seen_from=40).rules_out(_vid(500), since=40)


def test_the_next_head_grows_the_filter_or_starts_one() -> None:
    seen = _filled(3)
    grown, start = _next(_head(2, seen, seen_from=0))
    assert start == 0 and grown is not None and maybe_seen(grown, _vid(3))
    assert all(maybe_seen(grown, _vid(i)) for i in range(3))
    fresh, start = _next(_head(2, None))  # a head from before the filter
    assert start == 3 and fresh is not None and maybe_seen(fresh, _vid(3))
    restarted, start = _next(_head(2, "damaged"))
    assert start == 3 and restarted is not None and not maybe_seen(restarted, _vid(0))
