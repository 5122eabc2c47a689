"""Alias heads under exact interleavings: crashes between the history and the head, racing movers.

Each test pins one interleaving (design.md, D17) and states what readers of the head
see: never a position older than an acknowledged move; a move whose writer died before
moving the head is invisible to head readers until the next move or gc rolls the head
forward, and fsck names the gap meanwhile. Runs on memory, local, moto and SeaweedFS.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore.errors import AliasNotFoundError, ConflictError, StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.models.keys import alias_head_key
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore, PutMode
from tests.conftest import make_store
from tests.reliability.alias_race_workers import move_alias
from tests.reliability.interleave import Hook, Hooked, Killed

OP, ALIAS = "model", "production"
HEAD = "alias-heads/"
V1, V2, V3 = (Version.from_parts(major=name, creation_time=datetime(2025, 6, 1, 2, 3, 4))
              for name in ("one", "two", "three"))


@pytest.fixture(params=["memory", "local", "moto", "seaweedfs"])
def base(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    store = make_store(request.param, request, tmp_path)
    opstore = OpStore(store)
    for version in (V1, V2, V3):
        opstore.register_version(OP, version)
    opstore.set_alias(OP, ALIAS, V1)
    return store


class Recorded(Hooked):
    """Hooked, and remembers the keys the actor PUT (attempts, in order)."""

    def __init__(self, inner: ObjectStore, *hooks: Hook) -> None:
        super().__init__(inner, *hooks)
        self.puts: list[str] = []

    def put(self, key: str, data: bytes, *, mode: PutMode = "overwrite") -> str:
        self.puts.append(key)
        return super().put(key, data, mode=mode)


def _die() -> None:
    raise Killed


def _head_puts(actor: Recorded) -> int:
    return sum(HEAD in key for key in actor.puts)


def _history(store: ObjectStore) -> list[tuple[Version, bool]]:
    return [(entry.version, entry.deleted) for entry in OpStore(store).alias_history(OP, ALIAS)]


def _problems(store: ObjectStore) -> list[str]:
    return [problem.kind for problem in fsck(OpStore(store)).problems]


def _killed_between_history_and_head(store: ObjectStore) -> None:
    """A mover to V2 appends its position, then dies before its head CAS."""
    with pytest.raises(Killed):
        OpStore(Hooked(store, Hook("put", HEAD, _die))).set_alias(OP, ALIAS, V2)
    assert _history(store) == [(V1, False), (V2, False)]
    assert OpStore(store).get_alias(OP, ALIAS).version == V1  # never acknowledged: unseen
    assert _problems(store) == ["stale_alias_head"]


def test_a_crashed_move_is_rolled_forward_by_gc(base: ObjectStore) -> None:
    _killed_between_history_and_head(base)
    report = collect_garbage(OpStore(base), grace_hours=0, dry_run=True)
    assert report.alias_heads_moved == [f"{OP}@{ALIAS} -> position 1"]
    assert OpStore(base).get_alias(OP, ALIAS).version == V1  # a dry run moves nothing
    report = collect_garbage(OpStore(base), grace_hours=0)
    assert report.alias_heads_moved == [f"{OP}@{ALIAS} -> position 1"]
    assert OpStore(base).get_alias(OP, ALIAS).version == V2
    assert _problems(base) == []


def test_a_crashed_move_is_superseded_by_the_next_move(base: ObjectStore) -> None:
    _killed_between_history_and_head(base)
    position = OpStore(base).set_alias(OP, ALIAS, V3)
    assert position.seq == 2
    assert OpStore(base).get_alias(OP, ALIAS).version == V3
    assert _problems(base) == []


def test_expect_is_decided_on_the_history_and_the_head_then_agrees(base: ObjectStore) -> None:
    """Readers saw V1; the history's newest (unacknowledged) position is V2. A move that
    expects V1 is refused, naming V2, and the head is rolled forward to V2 so the next
    read shows what the refusal said."""
    _killed_between_history_and_head(base)
    with pytest.raises(ConflictError, match="points at"):
        OpStore(base).set_alias(OP, ALIAS, V3, expected=V1)
    assert OpStore(base).get_alias(OP, ALIAS).version == V2
    OpStore(base).set_alias(OP, ALIAS, V3, expected=V2)
    assert OpStore(base).get_alias(OP, ALIAS).version == V3
    assert _problems(base) == []


def test_a_mover_that_loses_the_head_race_leaves_the_newer_position(base: ObjectStore) -> None:
    """A appended V2 (position 1) and read the head; B moves to V3 (position 2) completely;
    A's CAS then fails, it re-reads a head already past its position, and stops."""
    other = OpStore(base)
    hook = Hook("put", HEAD, lambda: other.set_alias(OP, ALIAS, V3))
    hooked = Recorded(base, hook)
    position = OpStore(hooked).set_alias(OP, ALIAS, V2)
    assert hook.fired and position.seq == 1
    assert _head_puts(hooked) == 1  # its one CAS attempt failed, and it did not retry
    assert OpStore(base).get_alias(OP, ALIAS).version == V3
    assert _history(base) == [(V1, False), (V2, False), (V3, False)]
    assert _problems(base) == []


def test_a_mover_overtaken_before_reading_the_head_moves_nothing(base: ObjectStore) -> None:
    other = OpStore(base)
    hook = Hook("get", HEAD, lambda: other.set_alias(OP, ALIAS, V3))
    hooked = Recorded(base, hook)
    OpStore(hooked).set_alias(OP, ALIAS, V2)
    assert hook.fired
    assert _head_puts(hooked) == 0
    assert OpStore(base).get_alias(OP, ALIAS).version == V3
    assert _problems(base) == []


def test_a_lost_response_of_the_head_move_is_recognised(base: ObjectStore) -> None:
    def lose() -> None:
        raise StorageUnavailableError("response lost", maybe_applied=True)

    hooked = Recorded(base, Hook("put", HEAD, lose, when="after"))
    position = OpStore(hooked).set_alias(OP, ALIAS, V2)
    assert position.version == V2
    assert _head_puts(hooked) == 1  # read back, found its token: no second CAS
    assert OpStore(base).get_alias(OP, ALIAS).version == V2
    assert _problems(base) == []


def test_a_crashed_delete_is_unseen_until_rolled_forward(base: ObjectStore) -> None:
    with pytest.raises(Killed):
        OpStore(Hooked(base, Hook("put", HEAD, _die))).delete_alias(OP, ALIAS)
    assert OpStore(base).get_alias(OP, ALIAS).version == V1
    assert OpStore(base).list_aliases(OP) == [ALIAS]
    collect_garbage(OpStore(base), grace_hours=0)
    with pytest.raises(AliasNotFoundError, match="was deleted"):
        OpStore(base).get_alias(OP, ALIAS)
    assert OpStore(base).list_aliases(OP) == []
    assert _problems(base) == []


def test_deleting_again_after_a_crashed_delete_agrees_with_its_refusal(
        base: ObjectStore) -> None:
    """Readers still saw V1; the history's newest is the unacknowledged deletion. Deleting
    again is refused (nothing to delete), and the head is rolled forward to agree."""
    with pytest.raises(Killed):
        OpStore(Hooked(base, Hook("put", HEAD, _die))).delete_alias(OP, ALIAS)
    with pytest.raises(AliasNotFoundError, match="no alias"):
        OpStore(base).delete_alias(OP, ALIAS)
    with pytest.raises(AliasNotFoundError, match="was deleted"):
        OpStore(base).get_alias(OP, ALIAS)
    assert _problems(base) == []


def test_a_store_without_heads_reads_the_history(base: ObjectStore) -> None:
    """Written before heads existed (or the first mover died before creating one)."""
    OpStore(base).set_alias(OP, ALIAS, V2)
    base.delete(alias_head_key(OP, ALIAS))
    assert OpStore(base).get_alias(OP, ALIAS).version == V2
    assert OpStore(base).resolve(f"{OP}@{ALIAS}").version == V2
    assert _problems(base) == []  # no head is not a problem: readers use the history
    collect_garbage(OpStore(base), grace_hours=0)
    assert base.head(alias_head_key(OP, ALIAS)) is None  # gc creates no heads
    OpStore(base).set_alias(OP, ALIAS, V3)  # the next move creates it
    assert base.head(alias_head_key(OP, ALIAS)) is not None
    assert OpStore(base).get_alias(OP, ALIAS).version == V3


@pytest.mark.slow
@pytest.mark.seaweedfs
def test_processes_moving_one_alias(request: pytest.FixtureRequest,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """4 processes move one alias 8 times each on SeaweedFS: every acknowledged move is in
    the history, every reader right after it saw that position or a newer one, and the
    head ends on the history's newest position."""
    server = request.getfixturevalue("seaweed")
    url = f"s3://{server.new_bucket('aliasrace')}/registry"
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    store = OpStore.from_url(url)
    versions = [Version.from_parts(major=f"v{i}", creation_time=datetime(2025, 1, 1))
                for i in range(5)]
    for version in versions:
        store.register_version(OP, version)
    store.set_alias(OP, ALIAS, versions[0])
    workers, rounds = 4, 8
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(move_alias, [url] * workers, [server.env()] * workers,
                                [OP] * workers, [ALIAS] * workers,
                                [[str(v) for v in versions]] * workers, range(workers),
                                [rounds] * workers))
    acknowledged = [item for batch in results for item in batch]
    assert len(acknowledged) == workers * rounds
    assert all(head_seq >= seq for seq, _token, head_seq in acknowledged)
    history = store.alias_history(OP, ALIAS)
    assert [entry.seq for entry in history] == list(range(len(history)))
    tokens = {(entry.seq, entry.token) for entry in history}
    assert all((seq, token) in tokens for seq, token, _ in acknowledged)
    assert store.get_alias(OP, ALIAS).version == history[-1].version
    assert fsck(store).ok
