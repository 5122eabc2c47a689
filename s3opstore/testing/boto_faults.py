"""Fault injection below botocore: faults happen under the SDK's own retries.

Test-only, so it ships in ``s3opstore.testing``; it is the one module outside
``stores/s3.py`` that speaks botocore (events, AWSResponse, its exceptions),
a named exception in tests/test_architecture.py. A 503 SlowDown,
a reset connection, or a read timeout after the server applied the write is
what botocore sees, so it retries exactly as it would for a real fault; that
is how a landed create comes back to us as a 412.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["BOTO_FAULT_KINDS", "BotoFaults", "BotoPlan"]

BOTO_FAULT_KINDS = ("slowdown_503", "reset_before", "timeout_after_apply", "conflict_409",
                    "precondition_412")
_BEFORE_APPLY = {"slowdown_503": (503, "SlowDown", "Please reduce your request rate."),
                 "conflict_409": (409, "ConditionalRequestConflict",
                                  "A conflicting conditional operation is in progress."),
                 "precondition_412": (412, "PreconditionFailed",
                                      "At least one of the pre-conditions you specified "
                                      "did not hold")}

# (1-based HTTP request position, operation name) -> fault kind or None
BotoPlan = Callable[[int, str], str | None]


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def _moto_stub() -> Any:
    try:
        from moto.core.models import botocore_stubber
    except ImportError:  # moto is a test dependency only
        return None
    return botocore_stubber


class BotoFaults:
    """Fault injection on a boto3 client's HTTP requests (works with moto's mock).

    A handler registered first on ``before-send`` can refuse a request before
    the server sees it (a response returned there is used instead of sending;
    moto's stub, which is another ``before-send`` handler, is switched off for
    that request so it does not apply it either). A handler registered last
    runs after moto's stub applied the request and can lose the response
    (``timeout_after_apply`` therefore needs moto's in-process mock: against a
    real server that handler runs before sending, i.e. nothing is applied).
    botocore then reacts exactly as to a real fault: it retries 5xx and
    transport errors by itself, and surfaces 409/412.
    """

    def __init__(self, client: Any, plan: BotoPlan | None = None) -> None:
        self.client = client
        self.plan: BotoPlan = plan or (lambda pos, op: None)
        self.requests: list[str] = []
        self.injected: list[tuple[int, str, str]] = []
        self._pending: str | None = None
        self._stub: Any = _moto_stub()
        client.meta.events.register_first("before-send", self._before)
        client.meta.events.register_last("before-send", self._after)

    def reset(self, plan: BotoPlan | None = None) -> None:
        self._restore_stub()
        self.plan = plan or (lambda pos, op: None)
        self.requests.clear()
        self.injected.clear()

    def _before(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse, HTTPHeaders
        from botocore.exceptions import ConnectionClosedError

        self._restore_stub()  # in case a handler in between raised last time
        operation = event_name.rsplit(".", 1)[-1]
        self.requests.append(operation)
        position = len(self.requests)
        kind = self.plan(position, operation)
        self._pending = None
        if kind is None:
            return None
        self.injected.append((position, operation, kind))
        if kind == "reset_before":
            raise ConnectionClosedError(endpoint_url=request.url)
        if kind == "timeout_after_apply":
            self._pending = kind
            return None
        if self._stub is not None and self._stub.enabled:
            self._stub.enabled = False
            self._pending = "restore_stub"
        status, code, message = _BEFORE_APPLY[kind]
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>").encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/xml"
        headers["Content-Length"] = str(len(body))
        return AWSResponse(request.url, status, headers, _RawBody(body))

    def _restore_stub(self) -> None:
        if self._pending == "restore_stub":
            self._pending = None
            self._stub.enabled = True

    def _after(self, request: Any, **kwargs: Any) -> None:
        from botocore.exceptions import ReadTimeoutError

        pending, self._pending = self._pending, None
        if pending == "restore_stub":
            self._stub.enabled = True
        elif pending == "timeout_after_apply":
            raise ReadTimeoutError(endpoint_url=request.url)
