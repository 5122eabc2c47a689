"""Link events on chains of their own, one per upstream version (design.md, D16).

Runs on the memory and local stores, moto's mock and a real SeaweedFS. Another
actor is a second OpStore over another store object (its own cache of chain
heads, as another process has); interleavings are exact (``Hooked``). A store of
format 1 (written before link chains) is made by rewriting the root manifest,
as a release of format 1 left it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.models.events import Event
from s3opstore.models.keys import (
    EVENTS_PREFIX,
    FORMAT_KEY,
    LINK_EVENTS_PREFIX,
    chain_prefix,
    event_key,
    events_prefix,
    link_event_key,
    link_events_prefix,
    link_events_root,
    link_key,
    parse_event_key,
)
from s3opstore.models.version import Version
from s3opstore.registry import events as events_module
from s3opstore.registry.context import Context, forget_probes
from s3opstore.registry.events import (
    Subject,
    append_event,
    forget_heads,
    history,
    logged_ops,
    read_chain,
)
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectInfo, ObjectStore
from tests.registry.test_events import OP, _rewrite, store, v
from tests.reliability.interleave import Hook, Hooked, Killed

__all__ = ["store"]  # the fixture (every backend, a fresh process's chain heads)


class Recorded(Hooked):
    """Hooked, and every request under ``events/`` recorded as (primitive, key)."""

    def __init__(self, inner: ObjectStore, *hooks: Hook) -> None:
        super().__init__(inner, *hooks)
        self.calls: list[tuple[str, str]] = []

    def _call(self, primitive: str, key: str, call: Any) -> Any:
        if key.startswith(EVENTS_PREFIX):
            self.calls.append((primitive, key))
        return super()._call(primitive, key, call)

    def take(self) -> list[tuple[str, str]]:
        taken, self.calls = self.calls, []
        return taken


def _link_chain(store: ObjectStore, version: Version, op: str = OP) -> list[Event]:
    """One version's link events, oldest first."""
    return list(reversed(read_chain(Context(store), link_events_prefix(op, version.vid))))


def _op_chain(store: ObjectStore, op: str = OP) -> list[Event]:
    return list(reversed(read_chain(Context(store), events_prefix(op))))


def _linked(chain: list[Event]) -> bool:
    return (bool(chain) and chain[0].prev is None
            and [e.seq for e in chain] == list(range(len(chain)))
            and all(later.prev == earlier.digest for earlier, later in itertools.pairwise(chain))
            and all(e.intact for e in chain))


def _problems(store: ObjectStore) -> list[tuple[str, str]]:
    return sorted((p.kind, p.key) for p in fsck(store).problems)


def _set_format(store: ObjectStore, version: int) -> None:
    """The root manifest as a release of that format wrote it; then a new process."""
    raw = orjson.loads(store.get(FORMAT_KEY).data)
    raw["format_version"] = version
    store.put(FORMAT_KEY, orjson.dumps(raw))
    forget_probes()
    forget_heads()


# -- keys -----------------------------------------------------------------------------
def test_link_event_keys_name_the_upstream_op_and_version() -> None:
    vid = v(0).vid
    key = link_event_key("inner pipe", vid, 3)
    assert key == f"events/links/inner=20pipe/{vid}/{10**20 - 1 - 3:020d}.json"
    assert key.startswith(link_events_prefix("inner pipe", vid))
    assert link_events_prefix("inner pipe", vid).startswith(link_events_root("inner pipe"))
    assert link_events_root("inner pipe").startswith(LINK_EVENTS_PREFIX)
    assert parse_event_key(key) == ("inner pipe", 3)
    assert chain_prefix(key) == link_events_prefix("inner pipe", vid)
    assert parse_event_key(event_key("inner pipe", 3)) == ("inner pipe", 3)  # unchanged
    for bad in (f"events/links/model/{vid}.json", f"events/links/model/x/{'0' * 20}.json",
                f"events/links/model/{vid}/extra/{'0' * 20}.json",
                f"events/links/model/{vid}/{'0' * 19}.json",
                f"events/links/model/{vid.upper()}/{'0' * 20}.json"):
        with pytest.raises(ValueError, match="not an event key"):
            parse_event_key(bad)
    for bad_vid in ("../op/model", vid + "/x", "0.1.2"):
        with pytest.raises(ValueError, match="not a version id"):
            link_events_prefix(OP, bad_vid)


# -- writing --------------------------------------------------------------------------
def test_each_upstream_version_has_a_link_chain_of_its_own(store: ObjectStore) -> None:
    opstore = OpStore(store)
    for i in range(2):
        opstore.register_version(OP, v(i))
    for down, version in (("a", v(0)), ("b", v(0)), ("a", v(1))):
        opstore.register_valid_link(down, OP, version)
    first, second = _link_chain(store, v(0)), _link_chain(store, v(1))
    assert [(e.op, e.version, e.name) for e in first] == [
        (OP, v(0).vid, "a"), (OP, v(0).vid, "b")]
    assert [(e.op, e.version, e.name) for e in second] == [(OP, v(1).vid, "a")]
    assert [e.manifest_key for e in first + second] == [
        link_key("a", OP, v(0)), link_key("b", OP, v(0)), link_key("a", OP, v(1))]
    assert _linked(first) and _linked(second)
    assert _op_chain(store) == []  # the op's own chain is not touched
    assert list(store.list(events_prefix("a"))) == []  # nor the downstream's
    assert fsck(store).ok, fsck(store).problems
    assert repair_history(store) == []


def test_an_unseen_link_chain_starts_with_the_put_of_event_zero(store: ObjectStore) -> None:
    OpStore(store).register_version(OP, v(0))
    recorded = Recorded(store)
    opstore = OpStore(recorded)
    chain = link_events_prefix(OP, v(0).vid)
    opstore.register_valid_link("a", OP, v(0))
    assert recorded.take() == [("put", f"{chain}{10**20 - 1:020d}.json")]  # no LIST
    opstore.register_valid_link("b", OP, v(0))  # the head it wrote is known: 1 PUT
    assert recorded.take() == [("put", link_event_key(OP, v(0).vid, 1))]

    # Another process guesses event 0 too: its 412 is read back, and it steps forward
    # once, so it pays what a LIST-first append would (LIST + GET + PUT), no more.
    other = Recorded(store)
    OpStore(other).register_valid_link("c", OP, v(0))
    assert other.take() == [("put", link_event_key(OP, v(0).vid, 0)),
                            ("get", link_event_key(OP, v(0).vid, 0)),
                            ("put", link_event_key(OP, v(0).vid, 1)),
                            ("get", link_event_key(OP, v(0).vid, 1)),
                            ("list", chain),
                            ("get", link_event_key(OP, v(0).vid, 1)),
                            ("put", link_event_key(OP, v(0).vid, 2))]
    assert [e.name for e in _link_chain(store, v(0))] == ["a", "b", "c"]
    assert _linked(_link_chain(store, v(0)))
    assert fsck(store).ok, fsck(store).problems


def test_two_actors_meet_on_one_link_chain(store: ObjectStore) -> None:
    """A is about to store event 0 of v(0)'s link chain when B stores its own there.
    A's create answers 412, the read-back names B's event, A steps forward to event 1.
    Each then appends again with a stale or forgotten head, and nothing is lost."""
    OpStore(store).register_version(OP, v(0))
    chain = link_events_prefix(OP, v(0).vid)
    other = OpStore(Recorded(store))  # B: a cache of its own

    recorded = Recorded(store, Hook("put", chain, lambda: other.register_valid_link(
        "b", OP, v(0))))
    first = OpStore(recorded)
    first.register_valid_link("a", OP, v(0))
    assert recorded.hooks[0].fired
    assert recorded.take() == [("put", link_event_key(OP, v(0).vid, 0)),
                               ("get", link_event_key(OP, v(0).vid, 0)),
                               ("put", link_event_key(OP, v(0).vid, 1))]
    assert [e.name for e in _link_chain(store, v(0))] == ["b", "a"]

    other.register_valid_link("d", OP, v(0))  # B's head (event 0) is stale: one 412
    first.register_valid_link("c", OP, v(0))  # A collided, so it forgot: LIST first
    assert recorded.take() == [("list", chain), ("get", link_event_key(OP, v(0).vid, 2)),
                               ("put", link_event_key(OP, v(0).vid, 3))]
    links = _link_chain(store, v(0))
    assert [e.name for e in links] == ["b", "a", "d", "c"] and _linked(links)
    assert {e.manifest_key for e in links} == {link_key(d, OP, v(0)) for d in "abcd"}
    assert fsck(store).ok, fsck(store).problems


def test_a_link_killed_before_its_event_is_repaired_into_its_link_chain(
        store: ObjectStore) -> None:
    OpStore(store).register_version(OP, v(0))
    OpStore(store).register_valid_link("a", OP, v(0))

    def die() -> None:
        raise Killed

    with pytest.raises(Killed):
        OpStore(Hooked(store, Hook("put", LINK_EVENTS_PREFIX, die))).register_valid_link(
            "b", OP, v(0))
    assert _problems(store) == [("unlogged", link_key("b", OP, v(0)))]
    forget_heads()  # fsck --repair runs in a process of its own
    recovered = repair_history(store)
    assert [(e.seq, e.name, e.recovered) for e in recovered] == [(1, "b", True)]
    assert [(e.name, e.recovered) for e in _link_chain(store, v(0))] == [
        ("a", False), ("b", True)]
    assert fsck(store).ok and repair_history(store) == []


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """Every event built gets the next second of a fixed clock, in the order built."""
    stamps: list[datetime] = []
    start = datetime(2030, 1, 1, tzinfo=UTC)

    def tick() -> datetime:
        stamps.append(start + timedelta(seconds=len(stamps)))
        return stamps[-1]

    monkeypatch.setattr(events_module, "utc_now_ms", tick)
    yield stamps


# -- a store of format 1: link events in the op's chain, still valid -------------------
def test_a_format_1_store_keeps_its_link_events_in_the_op_chain(
        store: ObjectStore, clock: list[datetime]) -> None:
    OpStore(store).register_version(OP, v(0))
    OpStore(store).register_version(OP, v(1))
    _set_format(store, 1)
    old = OpStore(store)
    old.register_valid_link("a", OP, v(0))
    assert [(e.action, e.version, e.name) for e in _op_chain(store)] == [
        ("link.register", v(0).vid, "a")]
    assert list(store.list(LINK_EVENTS_PREFIX)) == []  # nothing an older fsck cannot read
    assert fsck(store).ok, fsck(store).problems

    def die() -> None:
        raise Killed

    with pytest.raises(Killed):  # repaired in format 1 too: into the op's chain
        OpStore(Hooked(store, Hook("put", EVENTS_PREFIX, die))).register_valid_link(
            "b", OP, v(1))
    assert _problems(store) == [("unlogged", link_key("b", OP, v(1)))]
    assert [(e.seq, e.name) for e in repair_history(store)] == [(1, "b")]
    assert list(store.list(LINK_EVENTS_PREFIX)) == []

    # Once the store is format 2 (a migration moved its root manifest), new link events
    # go to link chains, and the op chain's stay valid beside them.
    _set_format(store, 2)
    OpStore(store).register_valid_link("c", OP, v(0))
    assert [e.name for e in _link_chain(store, v(0))] == ["c"]
    assert [e.name for e in _op_chain(store)] == ["a", "b"]
    assert fsck(store).ok, fsck(store).problems
    assert repair_history(store) == []
    shown = [(e.name, e.version) for e in history(store, OP) if e.action == "link.register"]
    assert shown == [("c", v(0).vid), ("b", v(1).vid), ("a", v(0).vid)]
    every = [e.name for e in history(store, every=True) if e.action == "link.register"]
    assert every == ["c", "b", "a"]


# -- fsck -----------------------------------------------------------------------------
def _three_links(store: ObjectStore) -> list[str]:
    opstore = OpStore(store)
    opstore.register_version(OP, v(0))
    opstore.register_version(OP, v(1))
    for down in ("a", "b", "c"):
        opstore.register_valid_link(down, OP, v(0))
    assert fsck(store).ok, fsck(store).problems
    return [link_event_key(OP, v(0).vid, seq) for seq in range(3)]


def test_a_link_chain_is_verified_like_any_chain(store: ObjectStore) -> None:
    keys = _three_links(store)
    good = {key: store.get(key).data for key in keys}

    store.delete(keys[1])  # removed: a gap, and the link it logged is unlogged
    assert _problems(store) == sorted([("event_gap", keys[1]),
                                       ("unlogged", link_key("b", OP, v(0)))])
    store.put(keys[1], good[keys[1]])

    _rewrite(store, keys[2], {"actor": "mallory"})  # edited
    assert _problems(store) == [("event_edited", keys[2])]
    _rewrite(store, keys[1], {"actor": "mallory"}, redigest=True)  # edited, re-digested
    store.put(keys[2], good[keys[2]])
    assert _problems(store) == [("event_chain_break", keys[2])]
    store.put(keys[1], good[keys[1]])

    store.put(keys[0], good[keys[1]])  # swapped
    store.put(keys[1], good[keys[0]])
    assert {("event_reordered", keys[0]), ("event_reordered", keys[1])} <= set(
        _problems(store))
    store.put(keys[0], good[keys[0]])
    store.put(keys[1], good[keys[1]])
    assert fsck(store).ok


def test_an_event_copied_into_another_versions_link_chain_is_named(
        store: ObjectStore) -> None:
    """Event 0 of a link chain names no predecessor, so a copy of it in an empty chain
    is intact and linked: only its place gives it away."""
    keys = _three_links(store)
    misplaced = link_event_key(OP, v(1).vid, 0)
    store.put(misplaced, store.get(keys[0]).data)
    assert _problems(store) == [("event_subject_mismatch", misplaced)]


# -- reading --------------------------------------------------------------------------
def test_the_log_merges_link_chains_by_the_writers_clocks(
        store: ObjectStore, clock: list[datetime]) -> None:
    opstore = OpStore(store)
    writes: list[tuple[str, str | None, str | None]] = []
    for i in range(3):
        opstore.register_version(OP, v(i))
        writes.append(("version.register", v(i).vid, None))
    for down, i in (("a", 0), ("b", 2), ("a", 1), ("c", 0)):
        opstore.register_valid_link(down, OP, v(i))
        writes.append(("link.register", v(i).vid, down))
        if down == "b":
            opstore.set_tags(OP, {"after": "b"})
            writes.append(("tags.set", None, None))
    shown = history(store, OP)
    assert [(e.action, e.version, e.name) for e in shown] == list(reversed(writes))
    assert all(newer.at > older.at for newer, older in itertools.pairwise(shown))
    assert {e.at for e in shown} <= set(clock)
    for limit in (1, 2, 3, 5):
        assert history(store, OP, limit=limit) == shown[:limit]
    assert history(store, every=True) == shown  # no other op has events
    assert fsck(store).ok


def test_a_limited_log_reads_only_the_newest_link_events(
        store: ObjectStore, clock: list[datetime], monkeypatch: pytest.MonkeyPatch) -> None:
    """With a limit, a big op's link chains are not all read: the LIST's times pick the
    newest, ties at the cut kept (S3 keeps whole seconds, so all tie there)."""
    opstore = OpStore(store)
    versions = [v(i) for i in range(6)]
    for version in versions:
        opstore.register_version(OP, version)
        opstore.register_valid_link("down", OP, version)
    full = history(store, OP)
    counted = Recorded(store)
    limited = history(counted, OP, limit=2)
    assert limited == full[:2]
    assert [e.version for e in limited] == [versions[5].vid] * 2  # its link, its version
    reads = [key for primitive, key in counted.calls
             if primitive == "get" and key.startswith(LINK_EVENTS_PREFIX)]
    stamps = [info.last_modified for info in store.list(LINK_EVENTS_PREFIX)]
    if len(set(stamps)) == len(stamps):  # a clock finer than our writes (memory, local)
        assert sorted(reads) == sorted([link_event_key(OP, versions[5].vid, 0),
                                        link_event_key(OP, versions[4].vid, 0)])
    else:
        assert len(reads) >= 2

    # A listing without times reads every chain's newest, and still answers right.
    def timeless(self: ObjectStore, prefix: str, **kwargs: Any) -> Iterator[ObjectInfo]:
        for info in original(prefix, **kwargs):
            yield ObjectInfo(info.key, info.size, info.etag, None)

    original = counted.list
    monkeypatch.setattr(counted, "list", timeless.__get__(counted))
    counted.take()
    assert history(counted, OP, limit=2) == full[:2]
    assert len([1 for primitive, key in counted.calls
                if primitive == "get" and key.startswith(LINK_EVENTS_PREFIX)]) == 6


def test_an_op_with_only_link_chains_is_logged(store: ObjectStore) -> None:
    """``logged_ops`` finds an op whose only history is a link chain."""
    ctx = Context(store)
    OpStore(store).register_version("other", v(0))  # a written store, format 2
    append_event(ctx, Subject("link.register", "ghost", v(0).vid, "down"),
                 link_key("down", "ghost", v(0)), "0" * 64)
    assert [info.key for info in store.list(EVENTS_PREFIX)
            if "ghost" in info.key] == [link_event_key("ghost", v(0).vid, 0)]
    assert "ghost" in logged_ops(ctx)
    assert [(e.op, e.action) for e in history(store, every=True)
            if e.op == "ghost"] == [("ghost", "link.register")]
