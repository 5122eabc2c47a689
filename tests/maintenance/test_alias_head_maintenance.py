"""fsck's alias-head checks and gc's roll-forward, on a memory store.

Stale heads from crashed movers are pinned on four backends in
tests/reliability/test_alias_heads.py; here: the heads no writer can produce
(one naming a position its history lacks, one without history) and a gc whose
repair step fails.
"""

from __future__ import annotations

from s3opstore.errors import StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.gc import collect_garbage
from s3opstore.models.codec import decode, encode
from s3opstore.models.keys import alias_head_key, alias_prefix
from s3opstore.models.manifests import AliasHead
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import MemoryStore
from s3opstore.stores.wrappers import Fault, FaultyStore

A, B = Version.from_parts(b"a"), Version.from_parts(b"b")


def _store() -> OpStore:
    store = OpStore(MemoryStore())
    for version in (A, B):
        store.register_version("op", version)
    store.set_alias("op", "prod", A)
    return store


def _kinds(store: OpStore) -> list[tuple[str, str]]:
    return [(p.key, p.kind) for p in fsck(store).problems]


def test_a_head_naming_a_position_its_history_lacks_is_bad() -> None:
    store = _store()
    key = alias_head_key("op", "prod")
    head = decode(AliasHead, store.store.get(key).data, key)
    forged = head.model_copy(update={"position": head.position.model_copy(update={"seq": 7})})
    store.store.put(key, encode(forged))
    assert _kinds(store) == [(key, "bad_alias_head")]


def test_a_head_without_history_is_an_orphan() -> None:
    store = _store()
    for info in list(store.store.list(alias_prefix("op", "prod"))):
        store.store.delete(info.key)
    kinds = _kinds(store)
    assert (alias_head_key("op", "prod"), "orphan_alias_head") in kinds
    # The history still names the removed positions: fsck says so too (D16), nothing else.
    others = [(key, kind) for key, kind in kinds if not key.startswith("alias-heads/")]
    assert others and {kind for _, kind in others} == {"event_subject_missing"}, kinds


def test_a_failed_repair_is_a_gc_warning_not_a_failed_gc() -> None:
    store = _store()
    faulty = FaultyStore(store.store, [Fault("list", key_part="alias-heads/",
                                             exc=StorageUnavailableError("down"),
                                             kind="error")])
    report = collect_garbage(OpStore(faulty), grace_hours=0)
    assert report.alias_heads_moved == []
    assert any(w.startswith("alias heads not repaired:") for w in report.warnings)
