"""Every attack on signed bytes is refused through every library face, on every backend.

Library (load, stream to a path, locate), the cached loader and the Chariots
client; the HTTP API and the CLI have their own files. Each test also shows
the attack *would* load without trusted keys, so a refusal is the check's doing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from s3opstore import CachedLoader, OpStore, S3OpStoreClient
from s3opstore.errors import UntrustedBytesError
from s3opstore.stores.base import ObjectStore
from tests.trust.attacks import ATTACKS, GENUINE, OP, SIGNED, TARGET, Scene, stage


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


def _refused(scene: Scene, exc: pytest.ExceptionInfo[UntrustedBytesError]) -> None:
    error = exc.value
    assert (error.kind, error.status) == ("untrusted_bytes", 403)
    assert (error.op_name, error.version, error.key_id) == (OP, str(TARGET),
                                                            scene.refused_key_id)
    assert OP in error.message and str(TARGET) in error.message
    assert (scene.refused_key_id or "unsigned") in error.message


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_library_refuses(object_store: ObjectStore, attack: str, tmp_path: Path) -> None:
    scene = stage(object_store, attack)
    assert OpStore(object_store).load_op_bytes(OP, TARGET) == scene.attack_bytes  # unchecked
    trusting = OpStore(object_store, trusted_keys=scene.trusted)
    with pytest.raises(UntrustedBytesError) as exc:
        trusting.load_op_bytes(OP, TARGET)
    _refused(scene, exc)
    with pytest.raises(UntrustedBytesError):
        trusting.op_bytes_info(OP, TARGET)
    with pytest.raises(UntrustedBytesError):
        trusting.load_op_bytes_to(OP, TARGET, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()
    assert trusting.load_op_bytes(OP, SIGNED) == GENUINE  # the genuine version still loads


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_cached_loader_refuses(object_store: ObjectStore, attack: str,
                                   tmp_path: Path) -> None:
    scene = stage(object_store, attack)
    plain = CachedLoader(OpStore(object_store), tmp_path / "plain")
    assert plain.load(OP, TARGET) == scene.attack_bytes
    # Same cache directory: the blob may be on disk already; the binding is still checked.
    loader = CachedLoader(OpStore(object_store, trusted_keys=scene.trusted), tmp_path / "plain")
    with pytest.raises(UntrustedBytesError) as exc:
        loader.load(OP, TARGET)
    _refused(scene, exc)
    with pytest.raises(UntrustedBytesError):
        loader.load_latest(OP)  # TARGET was registered last
    assert loader.load(OP, SIGNED) == GENUINE


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_chariots_client_refuses(object_store: ObjectStore, attack: str) -> None:
    scene = stage(object_store, attack)
    assert (S3OpStoreClient(OpStore(object_store)).get_op_bytes_for_version(
        Named(OP), str(TARGET)) == scene.attack_bytes)
    client = S3OpStoreClient(OpStore(object_store), trusted_keys=scene.trusted)
    with pytest.raises(UntrustedBytesError) as exc:
        client.get_op_bytes_for_version(Named(OP), str(TARGET))
    _refused(scene, exc)
    assert client.get_op_bytes_for_version(Named(OP), str(SIGNED)) == GENUINE
