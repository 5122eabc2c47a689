"""Signed op bytes (design.md, D15): keys, the canonical signed payload, verification.

A writer holding an Ed25519 private key (:class:`SigningKey`) signs each byte
binding it writes; a reader configured with :class:`TrustedKeys` refuses
bytes whose binding is unsigned, signed by another key, or signed for other
fields (:class:`Verifier`, :class:`~s3opstore.errors.UntrustedBytesError`).
This package sits at the models level: it knows manifests and errors, never
the registry, a store or a face, so every face checks the same way.
"""

from __future__ import annotations

from s3opstore.trust.client import record_from_info, sign_upload
from s3opstore.trust.keys import (
    SigningKey,
    TrustedKeys,
    generate_key_files,
    key_id,
    load_signing_key,
    load_trusted_keys,
    trusted_keys_from_env,
)
from s3opstore.trust.payload import ALGORITHM, PAYLOAD_VERSION, record_digest, signed_payload
from s3opstore.trust.verify import Verifier, sign_binding

__all__ = [
    "ALGORITHM",
    "PAYLOAD_VERSION",
    "SigningKey",
    "TrustedKeys",
    "Verifier",
    "generate_key_files",
    "key_id",
    "load_signing_key",
    "load_trusted_keys",
    "record_digest",
    "record_from_info",
    "sign_binding",
    "sign_upload",
    "signed_payload",
    "trusted_keys_from_env",
]
