"""Key files: generated safely, and every hostile file is a typed error naming it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from s3opstore.errors import InvalidInputError, KeyFileError
from s3opstore.trust import (
    SigningKey,
    generate_key_files,
    key_id,
    load_signing_key,
    load_trusted_keys,
    trusted_keys_from_env,
)


def test_generated_files_are_private_and_never_overwritten(tmp_path: Path) -> None:
    key = generate_key_files(tmp_path / "k", tmp_path / "k.pub")
    assert stat.S_IMODE(os.stat(tmp_path / "k").st_mode) == 0o600
    assert load_signing_key(tmp_path / "k").key_id == key.key_id
    assert list(load_trusted_keys(tmp_path / "k.pub")) == [key.key_id]
    before = (tmp_path / "k").read_bytes()
    with pytest.raises(KeyFileError, match="already exists") as exc:
        generate_key_files(tmp_path / "k", tmp_path / "other.pub")
    assert exc.value.path == str(tmp_path / "k") and exc.value.kind == "invalid_key_file"
    assert (tmp_path / "k").read_bytes() == before and not (tmp_path / "other.pub").exists()
    with pytest.raises(KeyFileError, match="already exists"):
        generate_key_files(tmp_path / "new", tmp_path / "k.pub")
    assert not (tmp_path / "new").exists()


def test_the_key_id_is_a_digest_of_the_raw_public_key() -> None:
    key = SigningKey.generate()
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    reloaded = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    assert key_id(reloaded) == key.key_id and len(key.key_id) == 16
    assert key.key_id != SigningKey.generate().key_id


def _pem_private(private: object) -> bytes:
    return private.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def _pem_public(private: object) -> bytes:
    return private.public_key().public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()

HOSTILE_PRIVATE = {
    "not a key": (b"hello, I am a text file\n", "not a PEM private key"),
    "empty": (b"", "not a PEM private key"),
    "truncated": (_pem_private(ED)[:60], "not a PEM private key"),
    "rsa": (_pem_private(RSA), "holds an RSA key"),
    "ec": (_pem_private(EC), "holds an EC key"),
    "public instead": (_pem_public(ED), "holds a public key"),
    "encrypted": (ED.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(b"pw")), "encrypted"),
    "binary": (os.urandom(300), "not a PEM private key"),
}
HOSTILE_PUBLIC = {
    "not a key": (b"just words", "no PEM public key"),
    "empty": (b"", "no PEM public key"),
    "truncated": (_pem_public(ED)[:-40], "no PEM public key"),
    "damaged": (_pem_public(ED).replace(b"MC", b"M!"), "not a valid key"),
    "rsa": (_pem_public(RSA), "RSA key"),
    "second block rsa": (_pem_public(ED) + _pem_public(RSA), "block 2 is an RSA key"),
    "private instead": (_pem_private(ED), "holds a private key"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PRIVATE))
def test_hostile_private_key_files(tmp_path: Path, case: str) -> None:
    content, message = HOSTILE_PRIVATE[case]
    path = tmp_path / "bad key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message) as exc:
        load_signing_key(path)
    assert str(path) in exc.value.message and isinstance(exc.value, InvalidInputError)


@pytest.mark.parametrize("case", sorted(HOSTILE_PUBLIC))
def test_hostile_trusted_key_files(tmp_path: Path, case: str) -> None:
    content, message = HOSTILE_PUBLIC[case]
    path = tmp_path / "bad.pub"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message) as exc:
        load_trusted_keys(path)
    assert str(path) in exc.value.message


def test_missing_and_directory_key_files(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no such file") as exc:
        load_signing_key(tmp_path / "absent")
    assert str(tmp_path / "absent") in exc.value.message
    with pytest.raises(KeyFileError, match="is a directory"):
        load_trusted_keys(tmp_path)
    with pytest.raises(KeyFileError, match="no such file"):
        trusted_keys_from_env({"S3OPSTORE_TRUSTED_KEYS": str(tmp_path / "absent.pub")})
    assert trusted_keys_from_env({"S3OPSTORE_TRUSTED_KEYS": "  "}) is None
