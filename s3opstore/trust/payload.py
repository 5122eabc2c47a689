"""The exact bytes a signature covers: one canonical payload, versioned, domain separated.

``DOMAIN`` + canonical JSON (orjson, sorted keys) of the binding's fields:
op, version id, version number, blob SHA-256 and size, and the digest of the
version's registration record. The domain string keeps a signature over these
bytes from ever meaning anything to another protocol using the same key; the
payload version inside lets a later release sign more fields while readers of
this one refuse (rather than misread) what they do not know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson

from s3opstore.models.manifests import VersionRecord

__all__ = ["ALGORITHM", "DOMAIN", "PAYLOAD_VERSION", "record_digest", "signed_payload"]

ALGORITHM = "ed25519"
PAYLOAD_VERSION = 1
DOMAIN = b"s3opstore op-bytes signature\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record_digest(record: VersionRecord) -> str:
    """SHA-256 of the registration record's fields, in a fixed form a client can rebuild.

    Milliseconds since the epoch, not a datetime string, so no formatting choice
    of a serializer can change the digest.
    """
    fields = {
        "op": record.op_name, "version": record.version.vid, "number": list(record.number),
        "seq": record.seq,
        "registered_at_ms": (record.registered_at - _EPOCH) // timedelta(milliseconds=1),
        "registered_host": record.registered_host, "registered_pid": record.registered_pid,
    }
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


def signed_payload(*, op_name: str, vid: str, number: Sequence[int] | None, sha256: str,
                   size: int, record_sha256: str | None,
                   payload_version: int = PAYLOAD_VERSION) -> bytes:
    """The bytes signed for one binding (payload version 1)."""
    body = {
        "payload_version": payload_version, "op": op_name, "version": vid,
        "number": None if number is None else list(number), "sha256": sha256, "size": size,
        "record_sha256": record_sha256,
    }
    return DOMAIN + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
