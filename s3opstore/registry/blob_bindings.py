"""Byte bindings: the per-version log ``version -> (sha256, size)``, and appending to it.

A binding is create-only (never rewritten, never deleted); the newest one is
the first key of a LIST of ``bytes_prefix``. ``_bind`` appends a binding
unless an equal one is already the newest, recognising its own write through
the token and a reused idempotency key through ``same_key``.

Signing (design.md, D15) rides in the binding: a context with a signer
attaches a signature over the binding's fields, so it costs no request. An
equal newest binding counts as "already there" only when it carries the same
signature (Ed25519 is deterministic: same key, same fields, same bytes), so a
signed re-save of bytes first saved unsigned appends a signed binding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s3opstore.errors import ConflictError, IntegrityError
from s3opstore.models.keys import bytes_key, bytes_prefix
from s3opstore.models.manifests import BytesBinding, BytesSignature, VersionRecord, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry import logged
from s3opstore.registry.commit import Done, Put, Snapshot, new_token, same_key
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.trust.verify import sign_binding

__all__ = ["OpBytes", "newest_binding", "signer_of"]


@dataclass(frozen=True, slots=True)
class OpBytes:
    """Where the bytes of one op version live."""

    op_name: str
    version: Version
    sha256: str
    size: int
    key: str
    signer: str | None = None  # key id of the binding's signature (D15); None: unsigned
    signature: BytesSignature | None = field(default=None, repr=False, compare=False)


def _read_binding(ctx: Context, key: str) -> BytesBinding:
    snapshot = ctx.committer.read(key, BytesBinding)
    if snapshot is None:  # listed a moment ago; bindings are never deleted
        raise IntegrityError(f"byte binding {key!r} vanished after being listed")
    return snapshot.value


def newest_binding(ctx: Context, op: str, version: Version) -> BytesBinding | None:
    for info in ctx.store.list(bytes_prefix(op, version), limit=1):
        return _read_binding(ctx, info.key)
    return None


def signer_of(binding: BytesBinding) -> str | None:
    return None if binding.signature is None else binding.signature.key_id


def _bind(ctx: Context, record: VersionRecord, sha: str, size: int,
          idempotency_key: str | None,
          signature: BytesSignature | None = None) -> tuple[BytesBinding, bool]:
    """Append a binding unless an equal one is the newest; True when the binding is ours.

    ``signature``: one the caller made (a presigned upload's client); else the
    context's signer signs, if it has one.
    """
    op, version = record.op_name, record.version
    if signature is None and ctx.signer is not None:
        signature = sign_binding(ctx.signer, record, sha, size)
    token = new_token(idempotency_key, scope=f"bytes\0{op}\0{version.vid}", content=sha)
    identity = ctx.identity

    def reused_key() -> ConflictError:
        return ConflictError(f"idempotency key {idempotency_key!r} was already used to save "
                             f"other bytes for version {version} of op {op!r}")

    def equal(other: BytesBinding) -> bool:
        return other.sha256 == sha and (signature is None or other.signature == signature)

    def decide(newest: Snapshot[BytesBinding] | None,
               seq: int) -> Done[BytesBinding] | Put[BytesBinding, BytesBinding]:
        if newest is not None:
            if newest.value.token == token:
                return Done(newest.value)
            if idempotency_key is None:
                if equal(newest.value):
                    return Done(newest.value)
            else:
                if same_key(newest.value.token, token):
                    raise reused_key()
                earlier = _binding_with_key(ctx, op, version, token)
                if earlier is not None:
                    if earlier.token != token:
                        raise reused_key()
                    return Done(earlier)
                if equal(newest.value):
                    return Done(newest.value)
        binding = BytesBinding(
            op_name=op, version=record.version, seq=seq, sha256=sha, size=size,
            token=token, registered_at=utc_now_ms(), registered_host=identity.host,
            registered_pid=identity.pid, signature=signature)
        return Put(binding, binding)

    binding = logged.append(ctx, Subject("bytes.bind", op, version.vid), bytes_prefix(op, version),
                            lambda seq: bytes_key(op, version, seq), BytesBinding, decide)
    return binding, binding.token == token


def _binding_with_key(ctx: Context, op: str, version: Version,
                      token: str) -> BytesBinding | None:
    """The binding made with the idempotency key behind ``token`` (any content), if any."""
    for info in ctx.store.list(bytes_prefix(op, version)):
        binding = _read_binding(ctx, info.key)
        if same_key(binding.token, token):
            return binding
    return None
