"""``s3opstore serve``: the WSGI app (:mod:`s3opstore.api.wsgi`) under waitress.

Why waitress: a well-kept, pure-Python production WSGI server that runs on
Linux, macOS and Windows alike (gunicorn is Unix-only), with what this face
needs built in: a listen backlog (1024), ``TCP_NODELAY`` on every connection,
idle-connection timeouts, a connection limit, request bodies over 512 KiB
buffered to a temporary file rather than memory, and strict Content-Length
parsing. Its worker threads run the requests; one thread multiplexes the
sockets, so idle connections cost no thread.

On top of waitress, two small hooks on its documented-by-code extension points
(``channel_class``, ``parser_class``, ``error_task_class``):

- strict framing: a request with both ``Transfer-Encoding`` and
  ``Content-Length`` is refused with 400 (waitress alone lets the chunked
  coding win, which a proxy in front may read differently: request smuggling);
  non-digit or repeated lengths are already 400 in waitress;
- every error waitress answers itself (bad request line, over-long headers,
  body over ``max_body_bytes``) is the API's JSON error shape, not text.

``make_server(store, host, port, ...)`` returns a :class:`Server`
(``serve_forever()``, ``shutdown()``, ``server_close()``, ``server_address``,
``url``). Binding beyond loopback with neither a token nor a client network
allow-list raises :class:`~s3opstore.errors.ConfigurationError` unless
``allow_anyone=True``.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import orjson
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.task import ErrorTask

from s3opstore.api.types import ApiConfig
from s3opstore.api.wsgi import (
    DEFAULT_MAX_STREAM_BYTES,
    SERVE_TOO_LARGE_ADVICE,
    Guard,
    make_app,
)
from s3opstore.errors import ConfigurationError
from s3opstore.registry.opstore import OpStore

__all__ = ["DEFAULT_IDLE_TIMEOUT", "DEFAULT_PORT", "DEFAULT_THREADS", "Server", "check_exposure",
           "make_server"]

DEFAULT_PORT = 8080
DEFAULT_IDLE_TIMEOUT = 60
DEFAULT_THREADS = 8
_ERROR_KINDS = {400: "bad_request", 413: "payload_too_large", 431: "headers_too_large",
                501: "not_implemented", 500: "internal"}


class _StrictParser(HTTPRequestParser):  # type: ignore[misc]
    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("both Transfer-Encoding and Content-Length are set")


class _JsonErrorTask(ErrorTask):  # type: ignore[misc]
    def execute(self) -> None:
        error = self.request.error
        kind = _ERROR_KINDS.get(error.code, "bad_request")
        message = str(error.body).strip() or error.reason
        if error.code == 413:
            message = (f"{message.rstrip('.')}; {SERVE_TOO_LARGE_ADVICE}")
        body = orjson.dumps({"error": {"type": kind, "message": message}})
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      ("Cache-Control", "no-store")])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):  # type: ignore[misc]
    parser_class = _StrictParser
    error_task_class = _JsonErrorTask


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, guard: Guard, *, allow_anyone: bool) -> None:
    """Refuse to bind beyond loopback with nothing guarding the writes."""
    if _is_loopback(host) or guard.token is not None or guard.networks or allow_anyone:
        return
    raise ConfigurationError(
        f"refusing to serve on {host!r} (beyond loopback) with no token and no client "
        "network allow-list: anyone who can reach the port could overwrite op bytes that "
        "workers unpickle. Pass --token-file FILE, --allow-network CIDR (for Chariots "
        "workers, which send no credentials), or --allow-anyone")


def _raise_fd_limit(wanted: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no such limit to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Server:
    """A running-to-be waitress server; ``serve_forever()`` blocks until ``shutdown()``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], host: str, port: int, *,
                 threads: int, idle_timeout: int, max_body_bytes: int,
                 connection_limit: int) -> None:
        _raise_fd_limit(connection_limit + threads + 64)
        self._waitress: Any = create_server(
            app, host="127.0.0.1" if host == "localhost" else host, port=port,
            threads=threads, channel_timeout=idle_timeout,
            cleanup_interval=max(1, min(30, idle_timeout // 2 or 1)),
            connection_limit=connection_limit, backlog=1024,
            max_request_body_size=max_body_bytes, ident="s3opstore",
            expose_tracebacks=False, clear_untrusted_proxy_headers=True)
        self._waitress.channel_class = _Channel
        self._stopped = threading.Event()

    @property
    def server_address(self) -> tuple[str, int]:
        return str(self._waitress.effective_host), int(self._waitress.effective_port)

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Serve until :meth:`shutdown` (``poll_interval`` is accepted and ignored)."""
        self._waitress.run()

    def shutdown(self) -> None:
        """Stop serving: close the listening socket and every connection, from any thread."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._waitress.trigger.pull_trigger(self._close_all)

    def _close_all(self) -> None:
        self._waitress.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        for dispatcher in list(self._waitress._map.values()):
            dispatcher.close()

    def server_close(self) -> None:
        """Release the listening socket if :meth:`serve_forever` never ran."""
        if not self._stopped.is_set():
            self._stopped.set()
            self._waitress.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            for dispatcher in list(self._waitress._map.values()):
                dispatcher.close()


def make_server(store: OpStore, host: str = "127.0.0.1", port: int = 0,
                config: ApiConfig | None = None, *, guard: Guard | None = None,
                threads: int = DEFAULT_THREADS, idle_timeout: int = DEFAULT_IDLE_TIMEOUT,
                max_body_bytes: int = DEFAULT_MAX_STREAM_BYTES,
                connection_limit: int = 1000, allow_anyone: bool = False,
                log_stream: TextIO | None = None) -> Server:
    """A server answering the API for ``store`` (port 0 picks a free one)."""
    guard = guard or Guard()
    check_exposure(host, guard, allow_anyone=allow_anyone)
    app = make_app(store, config or ApiConfig(too_large_advice=SERVE_TOO_LARGE_ADVICE),
                   guard, max_stream_bytes=max_body_bytes, log_stream=log_stream)
    return Server(app, host, port, threads=threads, idle_timeout=idle_timeout,
                  max_body_bytes=max_body_bytes, connection_limit=connection_limit)
