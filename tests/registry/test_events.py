"""The history (design.md, D16): every write leaves one event, chains are verified.

Runs on the memory and local stores, moto's mock and a real SeaweedFS. Each tamper
test changes one stored event the way an attacker with bucket access could and
checks that ``fsck`` names it; the kill test dies between a write and its event.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from collections import Counter
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from s3opstore.errors import InvalidInputError, InvalidNameError, StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.models.events import Event, event_digest
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    EVENTS_PREFIX,
    alias_key,
    blob_key,
    event_key,
    events_prefix,
    link_events_prefix,
    op_head_key,
    version_event_key,
    version_events_prefix,
)
from s3opstore.models.version import Version
from s3opstore.registry.context import Context
from s3opstore.registry.events import (
    ACTOR_ENV,
    Subject,
    append_event,
    forget_heads,
    history,
    read_chain,
)
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore
from s3opstore.stores.wrappers import CountingStore
from tests.conftest import make_store
from tests.reliability.interleave import Hook, Hooked, Killed

OP = "model"


def v(i: int) -> Version:
    return Version.from_parts(major=f"{i}", creation_time=datetime(2025, 1, 2, 3, 4, i))


@pytest.fixture(params=["memory", "local", "moto", "seaweedfs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    forget_heads()
    return make_store(request.param, request, tmp_path)


def _events(store: ObjectStore, op: str | None = OP) -> list[Event]:
    """The op's whole history (its chains merged by time), oldest first."""
    return list(reversed(history(store, op)))


def _chain(store: ObjectStore, op: str | None = OP) -> list[Event]:
    """The op's own chain (every write but its versions), oldest first."""
    return list(reversed(read_chain(Context(store), events_prefix(op))))


def _link_chain(store: ObjectStore, version: Version, op: str = OP) -> list[Event]:
    """The link events of one version of ``op``, oldest first."""
    return list(reversed(read_chain(Context(store), link_events_prefix(op, version.vid))))


def _version_chain(store: ObjectStore, op: str = OP) -> list[Event]:
    """The op's version events, oldest first: those stored, and those its head carries
    (its latest and previous versions') that are not stored yet."""
    stored = {e.seq: e for e in read_chain(Context(store), version_events_prefix(op))}
    head = OpHead.model_validate_json(store.get(op_head_key(op)).data)
    assert head.event is not None
    for event in head.carried_events():
        assert stored.setdefault(event.seq, event) == event  # a stored copy is the same
    return [stored[seq] for seq in sorted(stored)]


def _linked(chain: list[Event]) -> bool:
    return (chain[0].prev is None and [e.seq for e in chain] == list(range(len(chain)))
            and all(later.prev == earlier.digest for earlier, later in itertools.pairwise(chain))
            and all(e.intact for e in chain))


def _problems(store: ObjectStore) -> list[tuple[str, str]]:
    return [(p.kind, p.key) for p in fsck(store).problems]


def _write_everything(opstore: OpStore) -> None:
    opstore.register_version(OP, v(0), metadata={"description": "first"})
    opstore.register_version(OP, v(1))
    opstore.save_op_bytes(OP, v(1), b"weights")
    opstore.register_valid_link("down", OP, v(1))
    opstore.register_pipeline("pipe", "down")
    opstore.set_alias(OP, "prod", v(1))
    opstore.set_alias(OP, "prod", v(0))
    opstore.delete_alias(OP, "prod")
    opstore.set_tags(OP, {"team": "vision"})
    opstore.set_tags(OP, {"stage": "eval"}, version=v(1))
    opstore.set_version_status(OP, v(0), "deprecated", reason="old")
    opstore.hide_op("down")


def test_every_write_appends_one_event_to_its_chain(store: ObjectStore) -> None:
    opstore = OpStore(store)
    _write_everything(opstore)
    assert [(e.action, e.name) for e in _chain(store)] == [
        ("metadata.register", None), ("bytes.bind", None),
        ("alias.set", "prod"), ("alias.set", "prod"), ("alias.delete", "prod"),
        ("tags.set", None), ("tags.set", None), ("status.set", "deprecated")]
    # the link's event is in the chain of the upstream version it validates
    links = _link_chain(store, v(1))
    assert [(e.action, e.op, e.version, e.name) for e in links] == [
        ("link.register", OP, v(1).vid, "down")]
    assert _link_chain(store, v(0)) == []
    # Versions chain through their op head: v(1)'s event rides in it as its latest's,
    # v(0)'s as its previous version's, until later versions push them out of it.
    versions = _version_chain(store)
    assert [(e.action, e.version) for e in versions] == [
        ("version.register", v(0).vid), ("version.register", v(1).vid)]
    assert list(store.list(version_events_prefix(OP))) == []
    assert [(e.action, e.name) for e in _events(store, "down")] == [
        ("op.declare", None), ("status.set", "hidden")]
    assert [(e.action, e.name) for e in _events(store, None)] == [("pipeline.register", "pipe")]
    assert _linked(_chain(store)) and _linked(versions) and _linked(links)
    assert Counter(e.action for e in _events(store)) == Counter(
        e.action for e in [*_chain(store), *versions, *links])
    assert fsck(store).ok, fsck(store).problems

    # The same writes again change nothing, so they log nothing.
    before = len(list(store.list(EVENTS_PREFIX)))
    opstore.register_version(OP, v(1))
    opstore.save_op_bytes(OP, v(1), b"weights")
    opstore.register_valid_link("down", OP, v(1))
    opstore.register_pipeline("pipe", "down")
    opstore.set_tags(OP, {"team": "vision"})
    assert len(list(store.list(EVENTS_PREFIX))) == before

    merged = history(store, every=True)
    assert len(merged) == before + 2  # + the two events the op head carries
    assert links[0] in merged
    assert [e.at for e in merged] == sorted((e.at for e in merged), reverse=True)
    assert len(history(store, every=True, limit=3)) == 3


def test_the_actor_comes_from_the_environment(store: ObjectStore,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACTOR_ENV, "ci-bot")
    OpStore(store).register_version(OP, v(0))
    monkeypatch.delenv(ACTOR_ENV)
    OpStore(store).register_version(OP, v(1))
    first, second = _events(store)
    assert first.actor == "ci-bot"
    assert "@" in second.actor and second.actor != "ci-bot"


def _rewrite(store: ObjectStore, key: str, change: dict[str, object], *,
             redigest: bool = False) -> None:
    raw = orjson.loads(store.get(key).data)
    raw.update(change)
    if redigest:
        raw["digest"] = event_digest(Event.model_validate(raw))
    store.put(key, orjson.dumps(raw, option=orjson.OPT_SORT_KEYS))


def _stored_chain_of_three(store: ObjectStore) -> list[str]:
    opstore = OpStore(store)
    for i in range(5):
        opstore.register_version(OP, v(i))
    assert fsck(store).ok
    return [version_event_key(OP, seq) for seq in range(3)]  # the last two ride in the head


def test_a_removed_event_is_a_gap(store: ObjectStore) -> None:
    keys = _stored_chain_of_three(store)
    store.delete(keys[1])
    problems = _problems(store)
    assert ("event_gap", keys[1]) in problems
    # the version it logged is now unlogged too
    assert [kind for kind, _ in problems].count("unlogged") == 1


def test_an_edited_event_fails_its_digest(store: ObjectStore) -> None:
    keys = _stored_chain_of_three(store)
    _rewrite(store, keys[2], {"actor": "mallory"})
    assert _problems(store) == [("event_edited", keys[2])]


def test_an_edited_and_redigested_event_breaks_the_chain(store: ObjectStore) -> None:
    keys = _stored_chain_of_three(store)
    _rewrite(store, keys[1], {"actor": "mallory"}, redigest=True)
    assert _problems(store) == [("event_chain_break", keys[2])]


def test_reordered_events_are_found(store: ObjectStore) -> None:
    keys = _stored_chain_of_three(store)
    first, second = store.get(keys[1]).data, store.get(keys[2]).data
    store.put(keys[1], second)
    store.put(keys[2], first)
    problems = _problems(store)
    assert ("event_reordered", keys[1]) in problems
    assert ("event_reordered", keys[2]) in problems


def test_an_event_must_match_the_store(store: ObjectStore) -> None:
    opstore = OpStore(store)
    opstore.register_version(OP, v(0))
    opstore.set_alias(OP, "prod", v(0))
    assert fsck(store).ok
    # the alias position rewritten behind the registry's back: its digest differs
    position = alias_key(OP, "prod", 0)
    raw = orjson.loads(store.get(position).data)
    raw["registered_host"] = "elsewhere"
    store.put(position, orjson.dumps(raw, option=orjson.OPT_SORT_KEYS))
    assert _problems(store) == [("event_subject_mismatch", event_key(OP, 0))]
    # an event naming a version that was never registered
    append_event(Context(store), Subject("version.register", OP, v(7).vid),
                 "ops/model/versions/none.json", "0" * 64)
    assert ("event_subject_missing", event_key(OP, 1)) in _problems(store)


def _die() -> None:
    raise Killed


def test_killed_between_the_write_and_its_event(store: ObjectStore) -> None:
    """The guarantee (D16): the manifest lands first; a writer killed before its event
    leaves an unlogged write that fsck names and ``fsck --repair`` logs, once."""
    OpStore(store).register_version(OP, v(0))
    hooked = Hooked(store, Hook("put", EVENTS_PREFIX, _die))
    with pytest.raises(Killed):
        OpStore(hooked).register_valid_link("down", OP, v(0), idempotency_key="k1")
    assert OpStore(store).get_validated_links("down", OP) == {v(0)}
    problems = fsck(store).problems
    assert [p.kind for p in problems] == ["unlogged"]
    assert "links/" in problems[0].key

    # A retry with the same key finds its link registered: nothing written, nothing
    # logged (no duplicate) -- the missing event is fsck --repair's to append.
    OpStore(store).register_valid_link("down", OP, v(0), idempotency_key="k1")
    assert _chain(store) == []
    recovered = repair_history(store)
    assert [(e.action, e.version, e.recovered) for e in recovered] == [
        ("link.register", v(0).vid, True)]
    assert fsck(store).ok
    assert repair_history(store) == []
    # appended where the writer's own event would have gone: the version's link chain
    assert [e.recovered for e in _link_chain(store, v(0))] == [True]


def test_a_version_is_never_unlogged(store: ObjectStore) -> None:
    """A version's event is part of its commit (it rides in the head), and is stored
    before a later commit drops it from the head: no kill point leaves it unlogged."""
    OpStore(store).register_version(OP, v(0))
    OpStore(store).register_version(OP, v(1))
    for where in ("ops/", EVENTS_PREFIX):  # v(0)'s entry, or its stored event, then die
        with pytest.raises(Killed):
            OpStore(Hooked(store, Hook("put", where, _die))).register_version(OP, v(2))
        assert OpStore(store).latest_version(OP).version == v(1)  # type: ignore[union-attr]
        assert fsck(store).ok, fsck(store).problems
    with pytest.raises(Killed):  # after its compare-and-swap: v(2) is committed, logged
        OpStore(Hooked(store, Hook("put", op_head_key(OP), _die, when="after"))
                ).register_version(OP, v(2))
    assert OpStore(store).latest_version(OP).version == v(2)  # type: ignore[union-attr]
    assert fsck(store).ok, fsck(store).problems
    assert [e.version for e in _version_chain(store)] == [v(i).vid for i in range(3)]
    assert repair_history(store) == []


@pytest.mark.parametrize("point", ["event", "entry", "head"])
def test_two_writers_meet_on_the_previous_versions_event(store: ObjectStore,
                                                         point: str) -> None:
    """Writer A has read the head (v(1), and v(0) before it) and is about to store v(0)'s
    event, its entry, or its compare-and-swap, when writer B commits v(2) and v(3) in
    full. A's copies of v(0)'s event and entry are identical bytes (B stored them
    already), its CAS loses, and its retry, now contended, finds v(2) not stored (B
    stores a version on dropping it, not on winning: B never lost a race), so the head
    keeps holding it (D18); A commits v(4) on top and stores v(4) right after its CAS:
    one event per version, one chain."""
    OpStore(store).register_version(OP, v(0))
    OpStore(store).register_version(OP, v(1))
    key = {"event": version_events_prefix(OP), "entry": "ops/model/versions/",
           "head": op_head_key(OP)}[point]

    def other_writer() -> None:
        writer = OpStore(store)
        writer.register_version(OP, v(2))
        writer.register_version(OP, v(3))

    hooked = Hooked(store, Hook("put", key, other_writer))
    record = OpStore(hooked).register_version(OP, v(4))
    assert record.seq == 4
    assert [e.version for e in _version_chain(store)] == [v(i).vid for i in range(5)]
    assert _linked(_version_chain(store))
    # newest first; v(3)'s rides in the head as its previous version's, v(2)'s with it
    assert [info.key for info in store.list(version_events_prefix(OP))] == [
        version_event_key(OP, seq) for seq in (4, 1, 0)]
    head = OpHead.model_validate_json(store.get(op_head_key(OP)).data)
    assert [h.manifest.record.version for h in head.previous_batch] == [v(2)]
    assert fsck(store).ok, fsck(store).problems


@pytest.mark.parametrize("failure", ["error", "killed"])
def test_the_winners_own_listing_may_fail(store: ObjectStore, failure: str) -> None:
    """A writer that won after losing a race lists its own version right after its CAS
    (so the writer dropping it later finds it with a HEAD). That listing is a courtesy:
    when it fails the commit stands and the call returns (or, killed, the version is
    committed all the same), and the writer that drops the version stores it."""
    OpStore(store).register_version(OP, v(0))
    OpStore(store).register_version(OP, v(1))

    def fail() -> None:
        if failure == "killed":
            raise Killed
        raise StorageUnavailableError("connection reset", maybe_applied=False)

    # A: drops v(0) (entry: 1st PUT under versions/), loses its CAS to B's v(2), finds
    # v(1) not stored on its retry and keeps it in the head (D18), wins, and stores its
    # own v(3) (2nd): that one fails.
    hooked = Hooked(store, Hook("put", op_head_key(OP),
                                lambda: OpStore(store).register_version(OP, v(2))),
                    Hook("put", "ops/model/versions/", fail, nth=2))
    if failure == "killed":
        with pytest.raises(Killed):
            OpStore(hooked).register_version(OP, v(3))
    else:
        assert OpStore(hooked).register_version(OP, v(3)).seq == 3
    assert hooked.hooks[1].fired
    assert OpStore(store).latest_version(OP).version == v(3)  # type: ignore[union-attr]
    assert fsck(store).ok, fsck(store).problems
    for i in (4, 5):  # v(3) leaves the head (v(1) with it): their writer stores them
        OpStore(store).register_version(OP, v(i))
    assert [r.version for r in OpStore(store).get_versions(OP)] == [v(i) for i in range(6)]
    assert _linked(_version_chain(store))
    assert fsck(store).ok, fsck(store).problems


def test_idempotent_retries_append_no_duplicate(store: ObjectStore) -> None:
    opstore = OpStore(store)
    for _ in range(2):
        opstore.register_version(OP, v(0), idempotency_key="a")
        opstore.save_op_bytes(OP, v(0), b"bytes", idempotency_key="b")
        opstore.set_alias(OP, "prod", v(0), idempotency_key="c")
        opstore.set_tags(OP, {"x": "1"}, idempotency_key="d")
        opstore.register_valid_link("down", OP, v(0), idempotency_key="e")
    assert Counter(e.action for e in _events(store)) == Counter(
        {"version.register": 1, "bytes.bind": 1, "alias.set": 1, "tags.set": 1,
         "link.register": 1})
    assert _events(store, "down") == []  # a link is logged in its upstream op's chain
    assert fsck(store).ok


def test_a_lost_response_on_the_event_is_recognised(store: ObjectStore) -> None:
    """The event PUT lands but its answer is lost: the read-back finds it, no duplicate."""
    def lose() -> None:
        raise StorageUnavailableError("connection reset", maybe_applied=True)

    OpStore(store).register_version(OP, v(0))
    hooked = Hooked(store, Hook("put", EVENTS_PREFIX, lose, when="after"))
    OpStore(hooked).register_valid_link("down", OP, v(0))
    OpStore(hooked).register_version(OP, v(1))
    OpStore(hooked).register_version(OP, v(2))  # stores v(0)'s event: lost answer too
    assert [e.action for e in _link_chain(store, v(0))] == ["link.register"]
    assert len(_version_chain(store)) == 3
    assert fsck(store).ok


def test_a_stale_chain_head_costs_a_retry_not_an_event(store: ObjectStore) -> None:
    """Two store objects (two processes' caches) take turns: each one's head is stale."""
    one, two = OpStore(CountingStore(store)), OpStore(CountingStore(store))
    one.register_version(OP, v(0))
    for i in range(0, 6, 2):
        one.set_tags(OP, {"turn": str(i)})
        two.set_tags(OP, {"turn": str(i + 1)})
    assert _linked(_chain(store)) and len(_chain(store)) == 6
    assert fsck(store).ok


def test_bad_arguments_are_refused_before_any_request(store: ObjectStore) -> None:
    with pytest.raises(InvalidInputError, match="0"):
        history(store, OP, limit=0)
    with pytest.raises(InvalidNameError, match="U\\+0000"):
        history(store, "bad\x00op")
    assert list(store.list(events_prefix(OP))) == []


def test_gc_never_deletes_events(store: ObjectStore) -> None:
    from s3opstore.maintenance.gc import collect_garbage

    opstore = OpStore(store)
    _write_everything(opstore)
    orphan = b"a writer died before binding these"  # what gc is for
    store.upload(blob_key(OP, hashlib.sha256(orphan).hexdigest()), io.BytesIO(orphan),
                 size=len(orphan))
    events = sorted(info.key for info in store.list(EVENTS_PREFIX))
    report = collect_garbage(opstore, grace_hours=0)
    assert report.deleted  # gc did delete something: the orphan
    assert sorted(info.key for info in store.list(EVENTS_PREFIX)) == events
    assert fsck(store).ok
