"""Per-request observability for the adapters: an S3 request counter and the log line.

The counter hooks every HTTP request the S3 backend sends (the ``RequestHooks``
capability: botocore's ``before-send.s3`` event, which only stores/s3.py
knows), retries and multipart parts included. It is one
counter per adapter, counting per thread: a request is served on one thread,
so its count is exact even when requests overlap (parts a transfer manager
sends from its own threads are not counted).

The log line is one JSON object: route, method, status, duration_ms,
s3_requests, request_id, error_type. Never bodies, headers or credentials.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

import orjson

from s3opstore.registry.opstore import OpStore
from s3opstore.stores.capabilities import request_hooks

__all__ = ["S3RequestCounter", "log_request"]


class S3RequestCounter:
    def __init__(self) -> None:
        self._local = threading.local()
        self.attached = False

    def attach(self, store: OpStore) -> bool:
        """Hook the store's S3 client, if it has one; True when counting."""
        hooks = request_hooks(store.store)
        if hooks is None:
            return False
        hooks.add_request_hook(self._on_send, unique_id=f"s3opstore-count-{id(self)}")
        self.attached = True
        return True

    def _on_send(self) -> None:
        self._local.count = getattr(self._local, "count", 0) + 1

    def reset(self) -> None:
        """Start counting the current thread's requests from zero."""
        self._local.count = 0

    @property
    def count(self) -> int | None:
        """S3 requests sent by the current thread since its last reset."""
        return getattr(self._local, "count", 0) if self.attached else None


def log_request(*, route: str | None, method: str, status: int, duration_ms: float,
                s3_requests: int | None, request_id: str | None, error_type: str | None,
                stream: TextIO | None = None) -> None:
    line = {"msg": "s3opstore.request", "route": route, "method": method[:16],
            "status": status, "duration_ms": round(duration_ms, 2),
            "s3_requests": s3_requests, "request_id": request_id, "error_type": error_type}
    out = stream or sys.stdout
    out.write(orjson.dumps(line).decode() + "\n")
    out.flush()
