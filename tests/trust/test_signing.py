"""Signed saves: round trip on every backend, what re-saving does, the stored form (D13, D15)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import UntrustedBytesError
from s3opstore.models.codec import decode, encode
from s3opstore.models.keys import bytes_prefix
from s3opstore.models.manifests import BytesBinding
from s3opstore.registry import blobs
from s3opstore.stores import MemoryStore
from s3opstore.stores.base import ObjectStore
from s3opstore.trust import SigningKey, TrustedKeys, record_digest

V = Version.from_parts(b"weights")


def _bindings(store: ObjectStore) -> list[BytesBinding]:
    return [decode(BytesBinding, store.get(info.key).data, info.key)
            for info in store.list(bytes_prefix("op", V))]


def test_a_signed_save_round_trips(object_store: ObjectStore, tmp_path: Path) -> None:
    key = SigningKey.generate()
    writer = OpStore(object_store, signer=key)
    record = writer.register_version("op", V)
    saved = writer.save_op_bytes("op", V, b"model bytes")
    assert saved.signer == key.key_id
    reader = OpStore(object_store, trusted_keys=TrustedKeys.of(key))
    assert reader.load_op_bytes("op", V) == b"model bytes"
    assert reader.load_op_bytes_to("op", V, tmp_path / "m.bin").signer == key.key_id
    assert (tmp_path / "m.bin").read_bytes() == b"model bytes"
    [binding] = _bindings(object_store)
    assert binding.signature is not None
    assert binding.signature.number == [1, 0, 0]
    assert binding.signature.record_sha256 == record_digest(record)


def test_without_trusted_keys_nothing_changes() -> None:
    base = MemoryStore()
    store = OpStore(base)
    store.register_version("op", V)
    saved = store.save_op_bytes("op", V, b"plain")
    assert saved.signer is None and store.load_op_bytes("op", V) == b"plain"
    [info] = list(base.list(bytes_prefix("op", V)))
    assert b"signature" not in base.get(info.key).data  # unsigned bindings: same bytes as before


def test_resaving_signed_bytes_appends_only_what_is_new() -> None:
    base, key = MemoryStore(), SigningKey.generate()
    OpStore(base).register_version("op", V)
    OpStore(base).save_op_bytes("op", V, b"same")
    signing = OpStore(base, signer=key)
    signing.save_op_bytes("op", V, b"same")  # unsigned binding there: a signed one is added
    assert [b.signature is not None for b in _bindings(base)] == [True, False]
    signing.save_op_bytes("op", V, b"same")  # the same signature is already the newest
    assert len(_bindings(base)) == 2
    other = SigningKey.generate()
    assert OpStore(base, signer=other).save_op_bytes("op", V, b"same").signer == other.key_id
    both = OpStore(base, trusted_keys=TrustedKeys.of(key, other))
    assert both.op_bytes_info("op", V).signer == other.key_id
    with pytest.raises(UntrustedBytesError):
        OpStore(base, trusted_keys=TrustedKeys.of(key)).load_op_bytes("op", V)


def test_a_newer_writers_signature_fields_are_ignored_not_corrupt() -> None:
    base, key = MemoryStore(), SigningKey.generate()
    OpStore(base, signer=key).register_version("op", V)
    OpStore(base, signer=key).save_op_bytes("op", V, b"x")
    [binding] = _bindings(base)
    raw = orjson.loads(encode(binding))
    raw["signature"]["transparency_log"] = "rekor entry"  # an optional field from later (D13)
    again = decode(BytesBinding, orjson.dumps(raw), "k")
    assert again == binding
    reader = OpStore(base, trusted_keys=TrustedKeys.of(key))
    assert reader.load_op_bytes("op", V) == b"x"


def test_keys_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3opstore.trust import generate_key_files

    key = generate_key_files(tmp_path / "k", tmp_path / "k.pub")
    stranger = generate_key_files(tmp_path / "s", tmp_path / "s.pub")
    url = (tmp_path / "store").as_uri()
    monkeypatch.setenv("S3OPSTORE_SIGNING_KEY", str(tmp_path / "k"))
    monkeypatch.delenv("S3OPSTORE_TRUSTED_KEYS", raising=False)
    writer = OpStore.from_url(url)
    writer.register_version("op", V)
    assert writer.save_op_bytes("op", V, b"env").signer == key.key_id
    monkeypatch.delenv("S3OPSTORE_SIGNING_KEY")
    monkeypatch.setenv("S3OPSTORE_TRUSTED_KEYS", str(tmp_path / "s.pub"))
    with pytest.raises(UntrustedBytesError):
        OpStore.from_url(url).load_op_bytes("op", V)
    monkeypatch.setenv("S3OPSTORE_TRUSTED_KEYS",
                       os.pathsep.join([str(tmp_path / "s.pub"), str(tmp_path / "k.pub")]))
    reader = OpStore.from_url(url)
    assert reader.verifier is not None and set(reader.verifier.trusted) == {
        key.key_id, stranger.key_id}
    assert reader.load_op_bytes("op", V) == b"env"


def test_the_signature_covers_number_and_record() -> None:
    """A signature for the right vid but another registration is refused where it is checked."""
    from s3opstore.trust import Verifier

    base, key = MemoryStore(), SigningKey.generate()
    store = OpStore(base, signer=key)
    record = store.register_version("op", V)
    store.save_op_bytes("op", V, b"x")
    binding = blobs.newest_binding(store._ctx, "op", V)
    assert binding is not None
    verifier = Verifier(TrustedKeys.of(key))
    assert verifier.check_binding(binding, record) == key.key_id
    renumbered = record.model_copy(update={"number": (2, 0, 0)})
    with pytest.raises(UntrustedBytesError, match="signed for number"):
        verifier.check_binding(binding, renumbered)
    moved = record.model_copy(update={"registered_pid": record.registered_pid + 1})
    with pytest.raises(UntrustedBytesError, match="another registration record"):
        verifier.check_binding(binding, moved)
    assert binding.signature is not None
    tampered = binding.model_copy(update={"signature": binding.signature.model_copy(
        update={"number": [2, 0, 0]})})
    with pytest.raises(UntrustedBytesError, match="does not match"):
        verifier.check_binding(tampered)


def test_a_bad_key_file_in_the_environment_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from s3opstore.errors import ConfigurationError

    (tmp_path / "junk").write_text("not a key")
    url = (tmp_path / "store").as_uri()
    for variable in ("S3OPSTORE_SIGNING_KEY", "S3OPSTORE_TRUSTED_KEYS"):
        monkeypatch.delenv("S3OPSTORE_SIGNING_KEY", raising=False)
        monkeypatch.delenv("S3OPSTORE_TRUSTED_KEYS", raising=False)
        monkeypatch.setenv(variable, str(tmp_path / "junk"))
        with pytest.raises(ConfigurationError) as exc:
            OpStore.from_url(url)
        assert exc.value.message.startswith(variable)
        assert str(tmp_path / "junk") in exc.value.message
