"""Signing a binding, and the one check every reader of op bytes runs.

:func:`sign_binding` is what a writer (OpStore with a signer, or a client
before ``commit_upload``) attaches to a binding. :class:`Verifier` accepts a
binding only when its signature is by a trusted key and covers exactly this
binding's op, version, digest and size (and the registration record, when the
caller has it at hand); anything else is an
:class:`~s3opstore.errors.UntrustedBytesError` naming op, version and key id.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature

from s3opstore.errors import UntrustedBytesError
from s3opstore.models.manifests import BytesBinding, BytesSignature, VersionRecord
from s3opstore.models.version import Version
from s3opstore.trust.keys import SigningKey, TrustedKeys
from s3opstore.trust.payload import ALGORITHM, PAYLOAD_VERSION, record_digest, signed_payload

__all__ = ["Verifier", "sign_binding"]


def sign_binding(key: SigningKey, record: VersionRecord, sha256: str,
                 size: int) -> BytesSignature:
    """The signature a binding of ``record``'s version to these bytes carries."""
    digest = record_digest(record)
    payload = signed_payload(op_name=record.op_name, vid=record.version.vid,
                             number=record.number, sha256=sha256, size=size,
                             record_sha256=digest)
    return BytesSignature(algorithm=ALGORITHM, payload_version=PAYLOAD_VERSION,
                          key_id=key.key_id, number=list(record.number), record_sha256=digest,
                          value=base64.b64encode(key.sign(payload)).decode("ascii"))


class Verifier:
    """Checks bindings against a set of trusted keys."""

    def __init__(self, trusted: TrustedKeys) -> None:
        self.trusted = trusted

    def __repr__(self) -> str:
        return f"Verifier({sorted(self.trusted)})"

    def check_binding(self, binding: BytesBinding, record: VersionRecord | None = None) -> str:
        """The signer's key id, or UntrustedBytesError."""
        return self.check(binding.op_name, binding.version, binding.sha256, binding.size,
                          binding.signature, record)

    def check(self, op_name: str, version: Version, sha256: str, size: int,
              signature: BytesSignature | None, record: VersionRecord | None = None) -> str:
        def refuse(problem: str) -> UntrustedBytesError:
            kid = None if signature is None else signature.key_id
            return UntrustedBytesError(op_name, str(version), kid, problem)

        if signature is None:
            raise refuse("they are not signed, and this reader only loads signed bytes")
        if signature.algorithm != ALGORITHM or signature.payload_version != PAYLOAD_VERSION:
            raise refuse(f"signed with {signature.algorithm} payload version "
                         f"{signature.payload_version}, which this release does not verify")
        public = self.trusted.get(signature.key_id)
        if public is None:
            raise refuse(f"key {signature.key_id} is not one of the {len(self.trusted)} "
                         "trusted keys")
        try:
            value = base64.b64decode(signature.value, validate=True)
        except (binascii.Error, ValueError):
            raise refuse("the signature is not valid base64") from None
        payload = signed_payload(op_name=op_name, vid=version.vid, number=signature.number,
                                 sha256=sha256, size=size,
                                 record_sha256=signature.record_sha256)
        try:
            public.verify(value, payload)
        except InvalidSignature:
            raise refuse("the signature does not match the binding's op, version, sha256 "
                         "and size (changed, or copied from other bytes)") from None
        if record is not None:
            if signature.number is not None and tuple(signature.number) != record.number:
                raise refuse(f"signed for number {signature.number}, but the version is "
                             f"{record.number_text}")
            if (signature.record_sha256 is not None
                    and signature.record_sha256 != record_digest(record)):
                raise refuse("signed for another registration record of this version")
        return signature.key_id
