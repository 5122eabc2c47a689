"""Process entry points for the randomized two-actor run (spawn-safe, top level).

Every actor works on one op of a real SeaweedFS and shares a small pool of
payloads, so writers keep meeting each other's blobs: a writer saving bytes
another writer already stored reuses them, a lying client plants forgeries at
the genuine bytes' addresses, and gc (grace 0) sweeps all the while. Actors
return what they were told succeeded; the test checks each of those loads.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import time
from typing import Any

POOL_SIZE = 6
PAYLOAD = 3000


def payload(index: int) -> bytes:
    """The shared pool: every process derives the same bytes."""
    return random.Random(f"payload {index}").randbytes(PAYLOAD)


def _open(url: str, env: dict[str, str], start: Any, seconds: float) -> tuple[Any, float]:
    """The store, and when to stop: all actors start together once each has opened it
    (a loaded machine can take seconds to spawn and import), then run ``seconds``."""
    os.environ.update(env)
    from s3opstore.registry.opstore import OpStore

    store = OpStore.from_url(url)
    store.check_store()
    start.wait(timeout=300)
    return store, time.time() + seconds


def writer(url: str, env: dict[str, str], op: str, worker: int, start: Any,
           seconds: float) -> dict[str, Any]:
    """Register versions and save pooled or fresh bytes, some twice; one content each."""
    from s3opstore.errors import S3OpStoreError
    from s3opstore.models.keys import blob_key
    from s3opstore.models.version import Version

    store, until = _open(url, env, start, seconds)
    rng = random.Random(f"writer {worker}")
    acked: list[tuple[str, str]] = []
    errors = 0
    i = 0
    while time.time() < until:
        version = Version.from_parts(f"writer {worker}", str(i))
        i += 1
        roll = rng.random()
        data = payload(rng.randrange(POOL_SIZE)) if roll < 0.4 else rng.randbytes(PAYLOAD)
        try:
            if i == 1 or roll >= 0.95:  # a writer that died after uploading, for good
                dead = rng.randbytes(PAYLOAD)
                store.store.upload(blob_key(op, hashlib.sha256(dead).hexdigest()),
                                   io.BytesIO(dead), size=len(dead))
                continue
            if roll >= 0.7:
                # A writer that died after uploading leaves these bytes unbound; this one
                # saves the same bytes a moment later and so reuses a blob gc may be deleting.
                key = blob_key(op, hashlib.sha256(data).hexdigest())
                store.store.upload(key, io.BytesIO(data), size=len(data))
                time.sleep(rng.uniform(0, 0.3))  # long enough for gc to catch it often
            store.register_version(op, version)
            for _ in range(rng.choice((1, 1, 2))):  # an identical re-save reuses the blob
                store.save_op_bytes(op, version, data)
        except S3OpStoreError:
            errors += 1  # typed and not acknowledged: nothing to check
            continue
        acked.append((str(version), hashlib.sha256(data).hexdigest()))
    return {"acked": acked, "errors": errors}


def uploader(url: str, env: dict[str, str], op: str, worker: int, start: Any, seconds: float,
             lying: bool) -> dict[str, Any]:
    """A presigned-upload client: PUT to the URL of a staging key, then commit_upload.

    An honest one PUTs the genuine bytes with the signed headers; a lying one
    PUTs other bytes of the same size without them (SeaweedFS accepts that),
    for a pooled payload's digest, and tries to commit them as genuine.
    """
    import requests

    from s3opstore.api.presign import presign, upload_headers
    from s3opstore.errors import IntegrityError, S3OpStoreError
    from s3opstore.models.version import Version

    store, until = _open(url, env, start, seconds)
    rng = random.Random(f"uploader {worker} {lying}")
    acked: list[tuple[str, str]] = []
    refused = errors = 0
    i = 0
    while time.time() < until:
        version = Version.from_parts(f"uploader {worker} {lying}", str(i))
        i += 1
        genuine = payload(rng.randrange(POOL_SIZE))
        sha = hashlib.sha256(genuine).hexdigest()
        try:
            store.register_version(op, version)
            staging = store.new_upload_key(op)
            put_url = presign(store.store, staging, "PUT", 60, sha256=sha)
            if lying:
                requests.put(put_url, data=rng.randbytes(len(genuine)), timeout=30)
            else:
                requests.put(put_url, data=genuine, headers=upload_headers(sha), timeout=30)
            store.bind_uploaded_blob(op, version, sha, len(genuine), upload_key=staging)
        except IntegrityError:
            refused += 1
            continue
        except S3OpStoreError:
            errors += 1
            continue
        acked.append((str(version), sha))
    return {"acked": acked, "refused": refused, "errors": errors}


def collector(url: str, env: dict[str, str], start: Any, seconds: float) -> dict[str, int]:
    """gc with a zero grace period, over and over."""
    from s3opstore.maintenance.gc import collect_garbage

    store, until = _open(url, env, start, seconds)
    totals = {"runs": 0, "deleted": 0, "restored": 0, "kept": 0}
    while time.time() < until:
        report = collect_garbage(store, grace_hours=0)
        totals["runs"] += 1
        totals["deleted"] += sum("/blobs/" in item.key for item in report.deleted)
        totals["restored"] += len(report.restored)
        totals["kept"] += len(report.kept)
    return totals
