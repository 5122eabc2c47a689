"""Op bytes: content-addressed blobs plus a per-version log of bindings.

Saving: the SHA-256 is computed first (files and seekable streams are read
twice; unseekable streams are spooled, in memory up to 16 MiB, then to a
temporary file). The blob at
``ops/<op>/blobs/sha256/<hex>`` is reused only when the store *proves* it
holds these bytes (a SHA-256 the store computed or verified, or its MD5 ETag);
otherwise the bytes are uploaded over whatever is there, which is also how a
damaged blob is repaired. Then a binding ``version -> digest`` is appended, and
the blob is looked at once more: a binding of ours whose blob went missing
(a gc that decided before the binding was visible) gets the bytes again.

gc never deletes a blob outright: it copies it to ``ops/<op>/trash/...``
first (see maintenance/gc.py), so a reader whose blob is missing falls back to
the newest trash copy, and the next gc puts the blob back.

Loading: LIST the newest binding, GET it, fetch the blob and verify its
digest; a mismatch is an :class:`IntegrityError`. Memory stays bounded for
the file and stream forms: blobs travel through the store's streaming
primitives (s3transfer on S3) and are hashed as they pass.
"""


from __future__ import annotations

from s3opstore.models.keys import blob_key
from s3opstore.models.version import Version
from s3opstore.registry.blob_bindings import OpBytes, _bind, newest_binding, signer_of
from s3opstore.registry.blob_reads import (
    SINGLE_GET_LIMIT,
    load_bytes,
    load_to,
    locate,
    read_located,
)
from s3opstore.registry.blob_source import (
    MD5_LIMIT,
    BlobSource,
    _disproven,
    _prepared,
    _proven,
    proves_content,
)
from s3opstore.registry.blob_uploads import bind_uploaded
from s3opstore.registry.context import Context
from s3opstore.registry.versions import require_version

# The registry's one face for op bytes; the parts live in blob_source (what is saved),
# blob_bindings (the per-version log), blob_reads (loading) and blob_uploads (presigned).
__all__ = [
    "MD5_LIMIT",
    "SINGLE_GET_LIMIT",
    "BlobSource",
    "OpBytes",
    "bind_uploaded",
    "load_bytes",
    "load_to",
    "locate",
    "newest_binding",
    "proves_content",
    "read_located",
    "save_bytes",
    "signer_of",
]


def save_bytes(ctx: Context, op: str, version: Version, data: BlobSource,
               idempotency_key: str | None = None) -> OpBytes:
    record = require_version(ctx, op, version)
    with _prepared(data) as source:
        sha, size = source.digests.sha256, source.digests.size
        key = blob_key(op, sha)
        ctx.ensure_safe()
        sent = not _proven(ctx.store.head(key), source)
        if sent:
            ctx.store.upload(key, source.rewind(), size=size)
        binding, ours = _bind(ctx, record, sha, size, idempotency_key)
        # gc may have decided to delete the blob before our binding was visible (it
        # listed the bindings, then we bound, then it deleted): look once more after
        # binding. A delete after this HEAD saw our binding first (gc re-lists after
        # deleting and puts the blob back; the blob was set aside in the trash).
        if ours and _disproven(ctx.store.head(key), source, sent=sent):
            ctx.store.upload(key, source.rewind(), size=size)
    return OpBytes(op, record.version, sha, size, key, signer_of(binding))
