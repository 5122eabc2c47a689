"""Two actors at once, interleaved exactly: writers, gc, presigned-upload clients.

Each test pins one interleaving that lost acknowledged bytes on the old code
(issue 10's defects, numbered in the test names' docstrings) and ends the same
way: every acknowledged save loads byte for byte, and ``fsck --deep`` is clean
(after a gc run, where the scenario leaves a trash copy for gc to settle).
Runs on the memory and local stores, moto's mock and a real SeaweedFS.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from datetime import datetime
from pathlib import Path

import pytest

from s3opstore.errors import ConflictError, IntegrityError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.maintenance.gc import GcReport, collect_garbage
from s3opstore.models.keys import blob_key, trash_root
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore
from tests.conftest import make_store
from tests.reliability.interleave import Hook, Hooked, Killed

OP = "model"
V = Version.from_parts(b"weights", creation_time=datetime(2025, 1, 2, 3, 4, 5))
GENUINE = b"the genuine weights " * 200
FORGED = b"the forged! weights " * 200
SHA = hashlib.sha256(GENUINE).hexdigest()
BLOB = blob_key(OP, SHA)


@pytest.fixture(params=["memory", "local", "moto", "seaweedfs"])
def base(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    store = make_store(request.param, request, tmp_path)
    OpStore(store).register_version(OP, V)
    return store


def _gc(store: ObjectStore) -> GcReport:
    return collect_garbage(OpStore(store), grace_hours=0)


def _orphan(store: ObjectStore, data: bytes = GENUINE) -> None:
    """Bytes at the address that no binding references: a writer died before binding."""
    store.upload(BLOB, io.BytesIO(data), size=len(data))


def _trash(store: ObjectStore) -> list[str]:
    return [info.key for info in store.list(trash_root(OP))]


def _settled(store: ObjectStore) -> None:
    """Every acknowledged save loads; two gc runs leave nothing in the trash.

    The first settles bound copies and sets unbound blobs aside, the second (grace 0:
    every copy is already past it) drops those.
    """
    opstore = OpStore(store)
    assert opstore.load_op_bytes(OP, V) == GENUINE
    _gc(store)
    _gc(store)
    assert _trash(store) == []
    assert opstore.load_op_bytes(OP, V) == GENUINE
    report = fsck(opstore, deep=True)
    assert report.ok, report.problems


def test_gc_between_a_writers_reuse_check_and_its_binding(base: ObjectStore) -> None:
    """Defects 4-5: the writer proved the blob, gc deleted it, then the writer bound it."""
    _orphan(base)
    hook = Hook("head", "/blobs/", lambda: _gc(base), when="after")
    OpStore(Hooked(base, hook)).save_op_bytes(OP, V, GENUINE)
    assert hook.fired and len(_trash(base)) == 1  # gc did delete it under the writer
    assert base.head(BLOB) is not None  # the writer's look after binding put it back
    _settled(base)


def test_binding_between_gcs_last_look_and_its_delete(base: ObjectStore) -> None:
    """Defect 4: the writer binds after gc's re-list; gc puts the blob back after deleting."""
    _orphan(base)
    hook = Hook("copy", "/trash/", lambda: OpStore(base).save_op_bytes(OP, V, GENUINE))
    report = collect_garbage(OpStore(Hooked(base, hook)), grace_hours=0)
    assert hook.fired
    assert [item.key for item in report.restored] == [BLOB] and report.deleted == []
    _settled(base)


def test_gc_killed_right_after_its_delete_loses_nothing(base: ObjectStore) -> None:
    """Defect 4: gc's restore used to be the only copy; a killed gc lost the bytes."""
    _orphan(base)
    save = Hook("copy", "/trash/", lambda: OpStore(base).save_op_bytes(OP, V, GENUINE))
    die = Hook("delete", "/blobs/", _raise_killed, when="after")
    with pytest.raises(Killed):
        collect_garbage(OpStore(Hooked(base, save, die)), grace_hours=0)
    assert base.head(BLOB) is None and len(_trash(base)) == 1
    assert OpStore(base).load_op_bytes(OP, V) == GENUINE  # readers use the trash copy
    assert fsck(OpStore(base), deep=True).ok  # a note, not a problem: gc settles it
    _settled(base)


def test_writer_killed_right_after_binding_a_blob_gc_deleted(base: ObjectStore) -> None:
    """Defect 5: a binding to a deleted blob, and nobody left to look again."""
    _orphan(base)
    gc_now = Hook("head", "/blobs/", lambda: _gc(base), when="after")
    die = Hook("put", "/bytes/", _raise_killed, when="after")
    with pytest.raises(Killed):
        OpStore(Hooked(base, gc_now, die)).save_op_bytes(OP, V, GENUINE)
    assert base.head(BLOB) is None
    assert OpStore(base).load_op_bytes(OP, V) == GENUINE
    # killed before logging its binding too (D16): fsck --repair logs it, once
    assert [e.action for e in repair_history(base)] == ["bytes.bind"]
    _settled(base)


def test_gc_during_commit_upload(base: ObjectStore) -> None:
    """Defect 2: commit_upload bound an old blob and never looked again; gc deleted it."""
    _orphan(base)  # PUT by a presigned-upload client (old: `exists: true` reused it)
    hook = Hook("put", "/bytes/", lambda: _gc(base))
    OpStore(Hooked(base, hook)).bind_uploaded_blob(OP, V, SHA, len(GENUINE))
    assert hook.fired and base.head(BLOB) is not None
    _settled(base)


def test_commit_upload_whose_blob_is_gone_for_good_is_not_acknowledged(
        base: ObjectStore) -> None:
    """Two gc runs at grace 0 inside one commit: the error says so; PUT again and commit."""
    _orphan(base)
    hook = Hook("put", "/bytes/", lambda: (_gc(base), _gc(base)))
    with pytest.raises(IntegrityError, match="PUT it again"):
        OpStore(Hooked(base, hook)).bind_uploaded_blob(OP, V, SHA, len(GENUINE))
    _orphan(base)
    OpStore(base).bind_uploaded_blob(OP, V, SHA, len(GENUINE))
    _settled(base)


def test_repair_racing_gc_is_not_deleted(base: ObjectStore) -> None:
    """Defect 3: gc checked a forged blob's age, a save repaired it, gc deleted the repair."""
    _orphan(base, FORGED)  # same size, other bytes, at the genuine address
    hook = Hook("delete", "/blobs/", lambda: OpStore(base).save_op_bytes(OP, V, GENUINE))
    report = collect_garbage(OpStore(Hooked(base, hook)), grace_hours=0)
    assert hook.fired
    assert [item.reason for item in report.kept] == ["rewritten while it was being set aside"]
    _settled(base)


def test_forged_commit_never_deletes_a_concurrent_genuine_save(base: ObjectStore) -> None:
    """Defect 6: commit_upload with a wrong digest deleted the key unconditionally."""
    _orphan(base, FORGED)
    hook = Hook("head", "/blobs/",
                lambda: OpStore(base).save_op_bytes(OP, V, GENUINE), when="after")
    # It judges whichever bytes it looked at (IntegrityError or not): nothing is deleted.
    with contextlib.suppress(IntegrityError):
        OpStore(Hooked(base, hook)).bind_uploaded_blob(OP, V, SHA, len(GENUINE))
    assert hook.fired
    _settled(base)


def test_reupload_after_a_race_starts_where_the_stream_was_handed_over(
        base: ObjectStore) -> None:
    """Defect 7: the repair after a gc race uploaded from seek(0)."""
    stream = io.BytesIO(b"a header the caller already consumed" + GENUINE)
    stream.seek(len(b"a header the caller already consumed"))
    hook = Hook("put", "/bytes/", lambda: base.delete(BLOB), when="after")  # gc, abridged
    OpStore(Hooked(base, hook)).save_op_bytes(OP, V, stream)
    assert hook.fired
    _settled(base)


def test_two_writers_sharing_an_idempotency_key_with_other_bytes(base: ObjectStore) -> None:
    """Defect 9: both were told they won; only the first may be."""
    other = os.urandom(len(GENUINE))
    hook = Hook("put", "/bytes/",
                lambda: OpStore(base).save_op_bytes(OP, V, GENUINE, idempotency_key="k"))
    with pytest.raises(ConflictError, match="idempotency key 'k'"):
        OpStore(Hooked(base, hook)).save_op_bytes(OP, V, other, idempotency_key="k")
    assert hook.fired
    _settled(base)


def test_two_alias_moves_sharing_an_idempotency_key(base: ObjectStore) -> None:
    """Defect 9, aliases: the loser of the race must not be told its move landed."""
    opstore = OpStore(base)
    w = Version.from_parts(b"other weights")
    opstore.register_version(OP, w)
    hook = Hook("put", "aliases/",
                lambda: OpStore(base).set_alias(OP, "prod", V, idempotency_key="k"))
    with pytest.raises(ConflictError, match="idempotency key 'k'"):
        OpStore(Hooked(base, hook)).set_alias(OP, "prod", w, idempotency_key="k")
    assert opstore.get_alias(OP, "prod").version == V
    # And sequentially: the same key for another target is a conflict, not the old move.
    with pytest.raises(ConflictError, match="idempotency key 'k'"):
        opstore.set_alias(OP, "prod", w, idempotency_key="k")
    assert opstore.set_alias(OP, "prod", V, idempotency_key="k").version == V


def _raise_killed() -> None:
    raise Killed
