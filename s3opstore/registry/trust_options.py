"""How an OpStore is told to sign and what to trust (design.md, D15).

``signer`` and ``trusted_keys`` accept the loaded objects or a key file's
path; ``OpStore.from_url`` falls back to the environment:
``S3OPSTORE_SIGNING_KEY`` (a private key file) and ``S3OPSTORE_TRUSTED_KEYS``
(public key files, ``os.pathsep`` between several). Neither set: nothing is
signed or checked, exactly as before signing existed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from s3opstore.errors import ConfigurationError, InvalidInputError, KeyFileError
from s3opstore.models.manifests import BytesSignature
from s3opstore.trust.keys import (
    TRUSTED_KEYS_ENV,
    SigningKey,
    TrustedKeys,
    load_signing_key,
    load_trusted_keys,
    trusted_keys_from_env,
)
from s3opstore.trust.verify import Verifier

__all__ = ["SIGNING_KEY_ENV", "SignerOption", "TrustOption", "as_signature", "from_env",
           "signer_option", "verifier_option"]

SIGNING_KEY_ENV = "S3OPSTORE_SIGNING_KEY"
SignerOption = SigningKey | str | os.PathLike[str] | None
TrustOption = TrustedKeys | str | os.PathLike[str] | None


def signer_option(value: SignerOption) -> SigningKey | None:
    if value is None or isinstance(value, SigningKey):
        return value
    if isinstance(value, str | os.PathLike):
        return load_signing_key(value)
    raise InvalidInputError(f"signer {value!r} is neither a SigningKey nor a key file path")


def verifier_option(value: TrustOption) -> Verifier | None:
    if value is None:
        return None
    if isinstance(value, TrustedKeys):
        return Verifier(value)
    if isinstance(value, str | os.PathLike):
        return Verifier(load_trusted_keys(value))
    raise InvalidInputError(
        f"trusted_keys {value!r} is neither a TrustedKeys nor a public key file path")


def from_env(signer: SignerOption, trusted_keys: TrustOption,
             environ: Mapping[str, str] | None = None) -> tuple[SignerOption, TrustOption]:
    """The options given, else what the environment names.

    A key file the environment names but that cannot be used is the deployment's
    fault, not the caller's: ConfigurationError naming the variable (a server then
    answers 500 ``misconfigured`` on every request, as for its other settings).
    """
    env = os.environ if environ is None else environ
    variable = SIGNING_KEY_ENV
    try:
        if signer is None and env.get(SIGNING_KEY_ENV, "").strip():
            signer = load_signing_key(env[SIGNING_KEY_ENV].strip())
        variable = TRUSTED_KEYS_ENV
        if trusted_keys is None:
            trusted_keys = trusted_keys_from_env(env)
    except KeyFileError as exc:
        raise ConfigurationError(f"{variable}: {exc.message}") from exc
    return signer, trusted_keys


def as_signature(value: BytesSignature | Mapping[str, Any] | None) -> BytesSignature | None:
    """A client's signature as the model (from JSON, say); InvalidInputError if malformed."""
    if value is None or isinstance(value, BytesSignature):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"signature {value!r} is not a signature object")
    from pydantic import ValidationError

    try:
        return BytesSignature.model_validate(dict(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise InvalidInputError(f"signature.{where}: {first['msg']}") from None
