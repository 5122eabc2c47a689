"""A store staged with one of four attacks on signed op bytes, for every face's tests.

Each leaves the newest binding of ``(OP, TARGET)`` in a state a reader that
trusts only ``Scene.key`` must refuse, while the blob it names is present and
intact, so a refusal can only come from the signature check:

- ``forged``: the genuine signed binding copied with other bytes' digest and
  size (an attacker who can write the bucket but has no key);
- ``unsigned``: the bytes saved by a writer without a key;
- ``stranger``: re-saved and signed by a key nobody trusts;
- ``swapped``: another version's genuine signature copied onto a binding of
  this version to the very same bytes (only the version differs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from s3opstore.models.codec import encode
from s3opstore.models.keys import blob_key, bytes_key
from s3opstore.models.version import Version
from s3opstore.registry import blobs
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore
from s3opstore.trust import SigningKey, TrustedKeys

ATTACKS = ["forged", "unsigned", "stranger", "swapped"]
OP = "model"
SIGNED = Version.from_parts(b"signed-version")
TARGET = Version.from_parts(b"target-version")
GENUINE = b"genuine weights " * 64
EVIL = b"import os; os.system('evil') " * 32


@dataclass
class Scene:
    key: SigningKey
    trusted: TrustedKeys
    refused_key_id: str | None  # the key id the refusal must name (None: unsigned)
    attack_bytes: bytes  # what an unchecked reader would load for TARGET


def _append_raw(base: ObjectStore, op: str, version: Version, **changes: object) -> None:
    """Write a binding by hand, as someone with write access to the bucket could."""
    opstore = OpStore(base)
    newest = blobs.newest_binding(opstore._ctx, op, version)
    template = newest or blobs.newest_binding(opstore._ctx, op, SIGNED)
    assert template is not None
    seq = 0 if newest is None else newest.seq + 1
    forged = template.model_copy(update={"version": version, "seq": seq, **changes})
    base.put(bytes_key(op, version, seq), encode(forged), mode="create")


def stage(base: ObjectStore, attack: str) -> Scene:
    key = SigningKey.generate()
    writer = OpStore(base, signer=key)
    for version in (SIGNED, TARGET):
        writer.register_version(OP, version)
    writer.save_op_bytes(OP, SIGNED, GENUINE)
    if attack != "swapped":  # there, TARGET's only binding borrows SIGNED's signature
        writer.save_op_bytes(OP, TARGET, GENUINE)
    refused: str | None = key.key_id
    attack_bytes = EVIL
    if attack == "unsigned":
        OpStore(base).save_op_bytes(OP, TARGET, EVIL)
        refused = None
    elif attack == "stranger":
        stranger = SigningKey.generate()
        OpStore(base, signer=stranger).save_op_bytes(OP, TARGET, EVIL)
        refused = stranger.key_id
    elif attack == "forged":
        base.put(blob_key(OP, hashlib.sha256(EVIL).hexdigest()), EVIL)
        _append_raw(base, OP, TARGET, sha256=hashlib.sha256(EVIL).hexdigest(), size=len(EVIL))
    elif attack == "swapped":
        signed = blobs.newest_binding(OpStore(base)._ctx, OP, SIGNED)
        assert signed is not None and signed.signature is not None
        _append_raw(base, OP, TARGET, signature=signed.signature)
        attack_bytes = GENUINE
    else:
        raise AssertionError(attack)
    return Scene(key, TrustedKeys.of(key), refused, attack_bytes)
