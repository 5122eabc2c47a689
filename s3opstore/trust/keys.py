"""Ed25519 key files: load, generate, and the key id that names a key everywhere.

- A private key file is PKCS#8 PEM, unencrypted, created 0600 and never
  overwritten by :func:`generate_key_files`.
- A public key file is SubjectPublicKeyInfo PEM. A trusted-keys file is one or
  more such blocks: a ``.pub`` written here is one, and ``cat a.pub b.pub``
  trusts both. ``S3OPSTORE_TRUSTED_KEYS`` names such files (``os.pathsep``
  between several).
- The key id is the first 16 hex digits of the SHA-256 of the raw 32-byte
  public key: short enough to read in a log, stable whatever file holds it.

Every problem with a file is a :class:`~s3opstore.errors.KeyFileError` naming
it; ``cryptography``'s own exceptions never leave this module.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from s3opstore.errors import KeyFileError

__all__ = [
    "TRUSTED_KEYS_ENV",
    "SigningKey",
    "TrustedKeys",
    "generate_key_files",
    "key_id",
    "load_signing_key",
    "load_trusted_keys",
    "trusted_keys_from_env",
]

TRUSTED_KEYS_ENV = "S3OPSTORE_TRUSTED_KEYS"
_MAX_FILE = 1024 * 1024  # a key file is a few hundred bytes; refuse to read a huge one
_PUBLIC_BLOCK = re.compile(
    rb"-----BEGIN PUBLIC KEY-----\r?\n.*?-----END PUBLIC KEY-----", re.DOTALL)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class SigningKey:
    """A writer's Ed25519 private key and its key id."""

    private: Ed25519PrivateKey = field(repr=False)
    key_id: str

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> SigningKey:
        return cls(private, key_id(private.public_key()))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.of(Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_pem(self) -> bytes:
        return _public_pem(self.public)


@dataclass(frozen=True)
class TrustedKeys(Mapping[str, Ed25519PublicKey]):
    """The public keys a reader accepts signatures from, by key id."""

    by_id: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, *keys: Ed25519PublicKey | SigningKey) -> TrustedKeys:
        publics = [k.public if isinstance(k, SigningKey) else k for k in keys]
        return cls({key_id(k): k for k in publics})

    def __getitem__(self, kid: str) -> Ed25519PublicKey:
        return self.by_id[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)

    def __add__(self, other: TrustedKeys) -> TrustedKeys:
        return TrustedKeys({**self.by_id, **other.by_id}, self.sources + other.sources)


def _read(path: str | os.PathLike[str]) -> tuple[str, bytes]:
    name = os.fspath(path)
    try:
        if os.path.getsize(name) > _MAX_FILE:
            raise KeyFileError(name, f"larger than {_MAX_FILE} bytes: not a key file")
        with open(name, "rb") as fh:
            return name, fh.read(_MAX_FILE + 1)
    except FileNotFoundError:
        raise KeyFileError(name, "no such file") from None
    except IsADirectoryError:
        raise KeyFileError(name, "is a directory, not a key file") from None
    except OSError as exc:
        raise KeyFileError(name, exc.strerror or str(exc)) from None


def _type_name(key: object) -> str:
    """'an RSA key', 'an EC key', ...: what a wrong key file holds, for its error message."""
    for kind, label in ((rsa.RSAPrivateKey, "RSA"), (rsa.RSAPublicKey, "RSA"),
                        (ec.EllipticCurvePrivateKey, "EC"), (ec.EllipticCurvePublicKey, "EC"),
                        (ed448.Ed448PrivateKey, "Ed448"), (ed448.Ed448PublicKey, "Ed448"),
                        (dsa.DSAPrivateKey, "DSA"), (dsa.DSAPublicKey, "DSA")):
        if isinstance(key, kind):
            return f"an {label} key" if label[0] in "AEIOR" else f"a {label} key"
    return f"a {type(key).__name__} key"


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """The Ed25519 private key in a PEM file; KeyFileError naming the file otherwise."""
    name, data = _read(path)
    if _PUBLIC_BLOCK.search(data):
        raise KeyFileError(name, "holds a public key: signing needs the private key file")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(name, "is encrypted: s3opstore reads unencrypted key files "
                                 "(protect them with file permissions)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(name, "is not a PEM private key (truncated or another "
                                 "format?)") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(name, f"holds {_type_name(private)}; s3opstore signs with "
                                 "Ed25519 keys (s3opstore keys generate)")
    return SigningKey.of(private)


def load_trusted_keys(path: str | os.PathLike[str]) -> TrustedKeys:
    """Every public key in a PEM file (one or more blocks); KeyFileError naming the file."""
    name, data = _read(path)
    if b"PRIVATE KEY-----" in data:
        raise KeyFileError(name, "holds a private key: a trusted-keys file holds public keys "
                                 "only (pass the .pub file)")
    blocks = _PUBLIC_BLOCK.findall(data)
    if not blocks:
        raise KeyFileError(name, "has no PEM public key (-----BEGIN PUBLIC KEY-----)")
    keys: dict[str, Ed25519PublicKey] = {}
    for number, block in enumerate(blocks, start=1):
        try:
            public = serialization.load_pem_public_key(block)
        except (ValueError, UnsupportedAlgorithm):
            raise KeyFileError(name, f"public key block {number} is not a valid key "
                                     "(truncated?)") from None
        if not isinstance(public, Ed25519PublicKey):
            raise KeyFileError(name, f"public key block {number} is {_type_name(public)}; "
                                     "s3opstore verifies Ed25519 keys")
        keys[key_id(public)] = public
    return TrustedKeys(keys, (name,))


def trusted_keys_from_env(environ: Mapping[str, str] | None = None) -> TrustedKeys | None:
    """The keys in the files ``S3OPSTORE_TRUSTED_KEYS`` names; None when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(TRUSTED_KEYS_ENV, "").strip()
    if not value:
        return None
    found = TrustedKeys()
    for part in value.split(os.pathsep):
        if part.strip():
            found = found + load_trusted_keys(part.strip())
    return found


def generate_key_files(private_path: str | os.PathLike[str],
                       public_path: str | os.PathLike[str]) -> SigningKey:
    """Write a new key pair: the private key 0600, the public key 0644; never overwrite."""
    private_name, public_name = os.fspath(private_path), os.fspath(public_path)
    if Path(private_name).resolve() == Path(public_name).resolve():
        raise KeyFileError(public_name, "is the same file as the private key")
    for name in (private_name, public_name):
        if os.path.lexists(name):
            raise KeyFileError(name, "already exists: refusing to overwrite a key file")
    key = SigningKey.generate()
    private_pem = key.private.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    _create(private_name, private_pem, 0o600)
    try:
        _create(public_name, key.public_pem(), 0o644)
    except KeyFileError:
        os.unlink(private_name)
        raise
    return key


def _create(name: str, data: bytes, mode: int) -> None:
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(name, "already exists: refusing to overwrite a key file") from None
    except OSError as exc:
        raise KeyFileError(name, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(name, mode)  # the umask may have narrowed it; never widened past ``mode``
