"""Group commit (design.md, D18): a writer that lost the head's race leaves an intent,
and the next winner commits that version in the same compare-and-swap as its own.

Two actors at exact points (``Hooked``, single-threaded, so exact on every backend):
the batch keeps every version's own identity, numbering and event chain, every
batched version is stored before it leaves the head, nothing is committed twice,
and intents are left behind by nobody who finished. The multi-process race on a
real server is in ``test_races.py``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from s3opstore import OpStore, RetryPolicy, Version
from s3opstore.errors import StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.models.codec import decode, encode
from s3opstore.models.events import Event
from s3opstore.models.head import MAX_BATCH, MAX_CARRIED, HeldVersion, OpHead
from s3opstore.models.keys import (
    intent_key,
    intents_prefix,
    op_head_key,
    parse_intent_key,
    version_entry_key,
    version_event_key,
    version_events_prefix,
)
from s3opstore.models.manifests import VersionIntent, VersionManifest, utc_now_ms
from s3opstore.registry.commit import new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import ACTOR_ENV, forget_heads, history, read_chain
from s3opstore.registry.versions import INTENT_TTL, next_number
from s3opstore.stores.base import ObjectStore, PutMode
from s3opstore.stores.memory import MemoryStore
from s3opstore.stores.wrappers import CountingStore, Fault, FaultyStore
from tests.conftest import make_store
from tests.registry.test_link_chains import _set_format
from tests.reliability.interleave import Hook, Hooked

OP = "model"
# Writers whose process lost races lately: ``contended`` holds from the first call on,
# so they go straight to an intent and look for others' (RetryPolicy: base_delay 0).
CONTENDED = RetryPolicy(base_delay=0.0, max_delay=0.0)


def v(name: str) -> Version:
    return Version.from_parts(major=name, creation_time=datetime(2025, 1, 2, 3, 4, 5))


@pytest.fixture(params=["memory", "local", "moto", "seaweedfs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    forget_heads()
    return make_store(request.param, request, tmp_path)


def _head(store: ObjectStore) -> OpHead:
    return decode(OpHead, store.get(op_head_key(OP)).data, op_head_key(OP))


def _intents(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(intents_prefix(OP))]


def _version_chain(store: ObjectStore) -> list[Event]:
    """Every version event, stored or carried by the head, oldest first."""
    found = {e.seq: e for e in read_chain(Context(store), version_events_prefix(OP))}
    for event in _head(store).carried_events():
        assert found.setdefault(event.seq, event) == event
    return [found[seq] for seq in sorted(found)]


def _intent(version: Version, *, actor: str = "carol", age: timedelta = timedelta(0),
            idempotency: str | None = None) -> VersionIntent:
    return VersionIntent(op_name=OP, version=version, actor=actor, host="elsewhere", pid=4242,
                         idempotency=idempotency, created_at=utc_now_ms() - age,
                         token=new_token())


def _leave(store: ObjectStore, intent: VersionIntent) -> str:
    key = intent_key(intent)
    store.put(key, encode(intent), mode="create")
    return key


class _Deletes(CountingStore):
    """Counts every call, and keeps the keys deleted one at a time."""

    def __init__(self, inner: ObjectStore) -> None:
        super().__init__(inner)
        self.one_by_one: list[str] = []

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self.one_by_one.append(key)
        super().delete(key, if_match=if_match)


class _Puts(CountingStore):
    """Counts every call, and keeps the keys written."""

    def __init__(self, inner: ObjectStore) -> None:
        super().__init__(inner)
        self.puts: list[str] = []

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        self.puts.append(key)
        return super().put(key, data, mode=mode)


def _kind(key: str) -> str:
    return ("head" if key.endswith("/head.json") else "intent" if "/intents/" in key
            else "event" if key.startswith("events/") else "entry")


def test_the_next_winner_commits_a_waiting_writers_version(
        store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loses to C, then to D, leaves its intent (nobody else waits: only after its
    second lost race); B, itself waiting, commits A's version with its own in one CAS
    and deletes A's intent; A finds its version there and never writes the head again."""
    OpStore(store).register_version(OP, v("0"))
    OpStore(store).register_version(OP, v("1"))
    monkeypatch.setenv(ACTOR_ENV, "alice")

    def bob_commits() -> None:
        with monkeypatch.context() as bob:
            bob.setenv(ACTOR_ENV, "bob")
            OpStore(store, retry=CONTENDED).register_version(OP, v("b"))

    counting = _Puts(store)
    hooked = Hooked(
        counting,
        # C wins the race A is about to run, so A's CAS answers 412, D the next one ...
        Hook("put", "head.json", lambda: OpStore(store).register_version(OP, v("c"))),
        Hook("put", "head.json", lambda: OpStore(store).register_version(OP, v("d")), nth=2),
        # ... and once A's intent is stored, B commits.
        Hook("put", "/intents/", bob_commits, when="after"))
    record = OpStore(hooked).register_version(OP, v("a"))

    head = _head(store)
    assert [h.manifest.record.version for h in head.batch] == [v("a")]
    assert head.latest.version == v("b")
    assert record == head.batch[0].manifest.record
    assert "batch" in head.must_understand
    # the CAS that lost (after storing the version it would drop), the second (the version
    # it would drop is not stored yet: carried, not stored twice), then the intent, never
    # a third CAS; the intent is deleted by B, its committer, not by A
    assert [_kind(key) for key in counting.puts] == [
        "entry", "event", "head", "head", "intent"]
    assert counting.counts["delete"] == counting.counts["delete_many"] == 0
    assert _intents(store) == []

    records = OpStore(store).get_versions(OP)
    assert [r.version for r in records] == [v("0"), v("1"), v("c"), v("d"), v("a"), v("b")]
    assert [r.seq for r in records] == list(range(6))
    for earlier, later in itertools.pairwise(records):
        assert later.number == next_number(earlier, later.version)
    events = _version_chain(store)
    assert [(e.version, e.actor) for e in events[4:]] == [(v("a").vid, "alice"),
                                                          (v("b").vid, "bob")]
    assert all(later.prev == earlier.digest
               for earlier, later in itertools.pairwise(events))
    assert fsck(store).ok


def test_a_writer_leaves_its_intent_after_one_lost_race_where_others_wait(
        store: ObjectStore) -> None:
    """A's last look at the intents found two writers waiting: after one lost race it
    leaves its intent at once. Nobody else commits, so A commits itself with theirs, and
    deletes every intent its CAS answered, its own too, in one request."""
    OpStore(store).register_version(OP, v("0"))
    waiting = [_intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (2 - i))) for i in range(2)]
    for intent in waiting:
        _leave(store, intent)
    counting = _Puts(store)
    hooked = Hooked(counting, Hook("put", "head.json",
                                   lambda: OpStore(store).register_version(OP, v("c"))))
    record = OpStore(hooked, retry=CONTENDED).register_version(OP, v("a"))
    assert [_kind(key) for key in counting.puts][:3] == ["head", "intent", "head"]
    assert counting.counts["delete_many"] == 1 and counting.counts["delete"] == 0
    assert _intents(store) == []
    head = _head(store)
    assert head.latest == record
    assert [h.manifest.record.version for h in head.batch] == [i.version for i in waiting]
    assert fsck(store).ok


def test_a_batch_committed_on_a_first_attempt_is_stored_by_its_committer(
        store: ObjectStore) -> None:
    """A process that lost lately commits a batch on its first attempt; the win halves
    its backoff below ``base_delay``, and it still stores the batch right after its CAS
    (the writer dropping it then finds it stored)."""
    OpStore(store).register_version(OP, v("0"))
    for i in range(3):
        _leave(store, _intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (3 - i))))
    writer = OpStore(store, retry=RetryPolicy(base_delay=0.01, max_delay=0.01))
    writer._ctx.committer._delay = 0.015  # lost a race lately; one win takes it under 0.01
    writer.register_version(OP, v("x"))
    assert not writer._ctx.committer.contended
    head = _head(store)
    assert len(head.batch) == 3
    for held in head.held()[:4]:
        assert store.head(version_entry_key(held.manifest.record)) is not None
        assert store.head(version_event_key(OP, held.manifest.record.seq)) is not None


def test_an_uncontended_writer_proves_a_dropped_batch_by_one_list() -> None:
    """A batch was committed under contention, and its committer stores it right after its
    CAS: the writer that drops it looks first (1 LIST), even when it is not contended
    itself, where creating each entry and event would answer 412 and read back. What is
    missing (its committer died) it stores itself."""
    for stored in (True, False):
        store = MemoryStore()
        OpStore(store).register_version(OP, v("0"))
        for i in range(3):
            _leave(store, _intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (3 - i))))
        OpStore(store, retry=CONTENDED).register_version(OP, v("x"))  # batch of 4
        OpStore(store).register_version(OP, v("y"))
        batch = _head(store).dropped_next()
        assert len(batch) == 4
        for held in [] if stored else batch:
            store.delete(version_entry_key(held.manifest.record))
            store.delete(version_event_key(OP, held.manifest.record.seq))
        counting = _Puts(store)
        OpStore(counting).register_version(OP, v("z"))
        assert counting.counts["list"] == 1  # the version chain's, not the intents'
        assert [_kind(key) for key in counting.puts] == (
            ["head"] if stored else ["entry", "event"] * 4 + ["head"])
        assert _head(store).previous_batch == []
        assert fsck(store).ok


def test_batched_versions_are_stored_before_they_leave_the_head(
        store: ObjectStore) -> None:
    """Every version a batch committed gets its entry and event before a CAS drops it,
    and every listing in between holds all of them."""
    waiting = [_intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (3 - i)))
               for i in range(3)]  # oldest first
    OpStore(store).register_version(OP, v("0"))
    for intent in waiting:
        _leave(store, intent)
    OpStore(store, retry=CONTENDED).register_version(OP, v("x"))
    assert [h.manifest.record.version for h in _head(store).batch] == [
        i.version for i in waiting]
    expected = [v("0"), *(i.version for i in waiting), v("x")]
    for name in ("y", "z"):
        OpStore(store).register_version(OP, v(name))
        expected.append(v(name))
        assert [r.version for r in OpStore(store).get_versions(OP)] == expected
    assert _head(store).batch == [] and _head(store).previous_batch == []
    for record in OpStore(store).get_versions(OP)[:5]:
        assert store.head(version_entry_key(record)) is not None
        assert store.head(version_event_key(OP, record.seq)) is not None
    assert [e.actor for e in _version_chain(store)[1:4]] == ["carol"] * 3
    assert fsck(store).ok


def test_a_contended_drop_is_proved_by_one_list() -> None:
    """A contended writer about to drop a batch looks with one LIST of the version chain
    (no HEAD, no create). What is not stored yet (its committer is still at it, or died)
    stays in the head instead of being stored twice, while there is room; it is stored
    before it leaves."""
    for stored in (True, False):
        store = MemoryStore()
        OpStore(store).register_version(OP, v("0"))
        for i in range(3):  # oldest first
            _leave(store, _intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (3 - i))))
        OpStore(store, retry=CONTENDED).register_version(OP, v("x"))  # batch of 4
        OpStore(store).register_version(OP, v("y"))
        batch = _head(store).dropped_next()
        # the batch's committer stored its versions right after its CAS; "not stored":
        # it died before it could
        for held in [] if stored else batch:
            store.delete(version_entry_key(held.manifest.record))
            store.delete(version_event_key(OP, held.manifest.record.seq))
        counting = _Puts(store)
        OpStore(counting, retry=CONTENDED).register_version(OP, v("z"))
        assert counting.counts["head"] == 0
        assert counting.counts["list"] == 2  # the version chain's, and the intents'
        # the CAS, its own entry and event (a contended writer stores what it committed
        # right away): nothing of the batch either way, and no intent: nobody else waits
        assert [_kind(key) for key in counting.puts] == ["head", "entry", "event"]
        carried = _head(store).previous_batch
        assert carried == ([] if stored else sorted(
            batch, key=lambda held: held.manifest.record.seq))
        assert [r.version for r in OpStore(store).get_versions(OP)] == [
            v("0"), v("w0"), v("w1"), v("w2"), v("x"), v("y"), v("z")]
        assert fsck(store).ok
        # uncontended, the next writers store what they drop, the carried versions too
        OpStore(store).register_version(OP, v("1"))
        OpStore(store).register_version(OP, v("2"))
        for held in batch:
            assert store.head(version_entry_key(held.manifest.record)) is not None
        assert fsck(store).ok


def test_a_full_head_stores_what_it_cannot_carry() -> None:
    store = MemoryStore()
    OpStore(store).register_version(OP, v("0"))
    for round_ in range(4):  # batches of 8 whose committers never store them
        for i in range(MAX_BATCH - 1):
            _leave(store, _intent(v(f"{round_}-{i}")))
        committed = OpStore(store, retry=CONTENDED).register_version(OP, v(f"r{round_}"))
        for held in _head(store).held()[:MAX_BATCH]:
            store.delete(version_entry_key(held.manifest.record))
            store.delete(version_event_key(OP, held.manifest.record.seq))
        head = _head(store)
        assert len(head.previous_batch) <= MAX_CARRIED
        assert head.latest == committed
    records = OpStore(store).get_versions(OP)
    assert [r.seq for r in records] == list(range(1 + 4 * MAX_BATCH))
    assert fsck(store).ok


def test_nothing_is_committed_twice_or_against_its_key(store: ObjectStore) -> None:
    """Intents a winner must leave alone: a version already registered, a key already
    used for another version, two intents for one version, one too old or from a
    clock far ahead, and a key that is not an intent at all."""
    OpStore(store).register_version(OP, v("old"))
    OpStore(store).register_version(OP, v("keyed"), idempotency_key="k1")
    digest = _head(store).idempotency[0][0]
    _leave(store, _intent(v("old")))
    _leave(store, _intent(v("reused-key"), idempotency=digest))
    _leave(store, _intent(v("twice"), age=timedelta(milliseconds=10)))
    _leave(store, _intent(v("twice"), actor="dave"))
    _leave(store, _intent(v("stale"), age=INTENT_TTL + timedelta(seconds=5)))
    _leave(store, _intent(v("ahead"), age=-INTENT_TTL - timedelta(seconds=5)))
    store.put(f"{intents_prefix(OP)}{'9' * 15}_not-an-intent.json", b"{}")
    OpStore(store, retry=CONTENDED).register_version(OP, v("x"))
    versions = [r.version for r in OpStore(store).get_versions(OP)]
    assert versions == [v("old"), v("keyed"), v("twice"), v("x")]
    assert [e.actor for e in _version_chain(store)][2] == "carol"  # the older intent


def test_a_batch_records_the_waiting_writers_idempotency_key(store: ObjectStore) -> None:
    """A retry of a batched call with its idempotency key finds its version; the key
    reused for another version is refused, as if the writer had committed itself."""
    OpStore(store).register_version(OP, v("0"))
    digest = "ab" * 16
    _leave(store, _intent(v("w"), idempotency=digest))
    OpStore(store, retry=CONTENDED).register_version(OP, v("x"))
    assert (digest, v("w").vid) in _head(store).idempotency


def test_a_writer_that_waits_too_long_commits_itself(store: ObjectStore) -> None:
    """Nobody else commits: the waiting writer's own attempts still do (alone)."""
    OpStore(store).register_version(OP, v("0"))
    record = OpStore(store, retry=CONTENDED).register_version(OP, v("a"))
    assert record.seq == 1 and _head(store).batch == []
    assert _intents(store) == []


def test_intent_keys_carry_the_whole_intent() -> None:
    for actor in ("alice", "ci bot/ünïcode_x", "a" * 200):
        intent = _intent(v("a"), actor=actor, idempotency="0f" * 16)
        key = intent_key(intent)
        parsed = parse_intent_key(OP, key)
        assert parsed is not None
        assert parsed.model_dump(exclude={"host"}) == intent.model_dump(exclude={"host"})
        assert parsed.host == "elsewhere"
    with pytest.raises(ValueError, match="does not fit"):
        intent_key(_intent(v("a"), actor="€" * 256))  # 768 bytes
    assert parse_intent_key(OP, f"{intents_prefix(OP)}garbage.json") is None
    assert parse_intent_key("other", intent_key(_intent(v("a")))) is None


def test_held_versions_and_what_the_next_cas_drops() -> None:
    def record(seq: int) -> HeldVersion:
        from s3opstore.models.manifests import VersionRecord

        rec = VersionRecord(op_name=OP, version=v(str(seq)), number=(seq + 1, 0, 0), seq=seq,
                            registered_at=datetime(2025, 1, 1, tzinfo=UTC),
                            registered_host="h", registered_pid=1)
        return HeldVersion(manifest=VersionManifest(record=rec, token="0" * 32))

    def fake_event(seq: int) -> Event:
        return Event(op=OP, seq=seq, prev=None, digest="0" * 64,
                     at=datetime(2025, 1, 1, tzinfo=UTC), actor="a", host="h", pid=1,
                     action="version.register", manifest_key="k", manifest_sha256="0" * 64,
                     token="1" * 32)

    first = OpHead.first(record(0).manifest.record, "a" * 32, [], fake_event(0))
    batch = first.followed_by(record(3).manifest.record, "b" * 32, [], fake_event(3),
                              mates=[(record(1).manifest.record, fake_event(1)),
                                     (record(2).manifest.record, fake_event(2))])
    assert [r.seq for r in batch.carried()] == [3, 2, 1, 0]
    assert [h.manifest.record.seq for h in batch.dropped_next()] == [0]
    assert {h.manifest.token for h in batch.held()[:3]} == {"b" * 32}
    after = batch.followed_by(record(4).manifest.record, "c" * 32, [], fake_event(4))
    assert [h.manifest.record.seq for h in after.dropped_next()] == [3, 2, 1]
    assert "batch" in after.must_understand  # its previous batch
    assert after.followed_by(record(5).manifest.record, "d" * 32, [],
                             fake_event(5)).must_understand == ["previous", "previous_event"]
    assert len(after.recent) == 5


def test_gc_removes_intents_past_the_grace_and_fsck_counts_them(
        store: ObjectStore) -> None:
    """Killed writers' intents go in one request (up to 1,000 keys), not one each."""
    OpStore(store).register_version(OP, v("0"))
    keys = sorted(_leave(store, _intent(v(f"left-{i}"))) for i in range(3))
    report = fsck(store)
    assert report.ok and report.counts["waiting writers' intents"] == 3
    assert collect_garbage(OpStore(store), grace_hours=1).deleted == []
    assert _intents(store) == keys
    counted = _Deletes(store)
    deleted = collect_garbage(OpStore(counted), grace_hours=0).deleted
    assert [item.key for item in deleted] == keys
    assert counted.counts["delete_many"] == 1
    assert [key for key in counted.one_by_one if "/intents/" in key] == []
    assert _intents(store) == []
    assert [e.version for e in history(store, OP)] == [v("0").vid]


def test_answered_intents_a_committer_could_not_delete_are_never_committed_again() -> None:
    """The committer's delete fails (or it dies first): its registration still succeeds,
    every later committer skips the answered intents (their versions are committed),
    and gc removes them."""
    store = MemoryStore()
    OpStore(store).register_version(OP, v("0"))
    keys = [_leave(store, _intent(v(f"w{i}"), age=timedelta(milliseconds=10 * (2 - i))))
            for i in range(2)]
    failing = FaultyStore(store, [Fault("delete_many", key_part="/intents/")])
    OpStore(failing, retry=CONTENDED).register_version(OP, v("x"))
    assert failing.faults[0].fired == 1
    assert _intents(store) == keys
    OpStore(store, retry=CONTENDED).register_version(OP, v("y"))
    assert [r.version for r in OpStore(store).get_versions(OP)] == [
        v("0"), v("w0"), v("w1"), v("x"), v("y")]
    assert _head(store).batch == []
    assert [item.key for item in collect_garbage(OpStore(store), grace_hours=0).deleted] == keys
    assert fsck(store).ok


def test_a_format_1_store_is_written_as_before(store: ObjectStore) -> None:
    """An older release may write a format-1 store too: it would refuse a batched head,
    and it proves a version stored by its entry, so the entry must stay second there."""
    OpStore(store).register_version(OP, v("0"))
    OpStore(store).register_version(OP, v("1"))
    _set_format(store, 1)
    _leave(store, _intent(v("w")))
    counting = _Puts(store)
    hooked = Hooked(counting, Hook("put", "head.json",
                                   lambda: OpStore(store).register_version(OP, v("c"))))
    OpStore(hooked, retry=CONTENDED).register_version(OP, v("a"))
    assert [_kind(key) for key in counting.puts if not key.startswith("_s3opstore/")] == [
        "event", "entry", "head", "event", "entry", "head", "event", "entry"]
    assert [r.version for r in OpStore(store).get_versions(OP)] == [
        v("0"), v("1"), v("c"), v("a")]
    assert _head(store).batch == [] and "batch" not in _head(store).must_understand
    assert fsck(store).ok


class _NoIntents(MemoryStore):
    """A store that fails every write of an intent (5xx that did not apply)."""

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        if "/intents/" in key:
            raise StorageUnavailableError("slow down", maybe_applied=False)
        return super().put(key, data, mode=mode)


def test_an_intent_that_cannot_be_stored_only_means_racing_as_before() -> None:
    store = _NoIntents()
    OpStore(store).register_version(OP, v("0"))
    hooked = Hooked(store, Hook("put", "head.json",
                                lambda: OpStore(store).register_version(OP, v("c"))))
    # contended from the start (intent first), then a lost race (intent after it)
    record = OpStore(hooked, retry=CONTENDED).register_version(OP, v("a"))
    assert record.seq == 2 and _intents(store) == []
    assert [r.version for r in OpStore(store).get_versions(OP)] == [v("0"), v("c"), v("a")]
