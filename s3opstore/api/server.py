"""A local development server: the same :func:`handle` behind ``http.server``.

``make_server(store)`` returns a ThreadingHTTPServer bound to loopback (port
0 picks a free one; read ``server.server_address``); ``serve(url, host, port)``
opens the store and serves until interrupted (the CLI's ``serve``). Requests
are read whole, bounded by ``ApiConfig.max_body_bytes``: a larger
Content-Length is refused with 413 without reading the body, and a body
without Content-Length (chunked) with 411. One JSON log line per request goes
to stderr.
"""

from __future__ import annotations

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from s3opstore.api.handler import handle
from s3opstore.api.observe import S3RequestCounter, log_request
from s3opstore.api.responses import error_response
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse
from s3opstore.registry.opstore import OpStore

__all__ = ["make_server", "serve"]


class _Handler(BaseHTTPRequestHandler):
    server_version = "s3opstore"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self, response: ApiResponse, started: float, *, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        counter = self.server.counter
        # Logged before the body leaves, so a client that got its answer finds the line.
        log_request(route=response.route, method=self.command or "?", status=response.status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    s3_requests=counter.count, request_id=None,
                    error_type=response.error_type, stream=sys.stderr)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _dispatch(self) -> None:
        started = time.perf_counter()
        self.server.counter.reset()
        limit = self.server.config.max_body_bytes
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if self.headers.get("Transfer-Encoding"):
                self._answer(error_response(411, "length_required",
                                            "send a Content-Length (no chunked bodies)"),
                             started, close=True)
                return
            length = 0
        else:
            try:
                length = int(length_text)
                if length < 0:
                    raise ValueError(length_text)
            except ValueError:
                self._answer(error_response(400, "invalid_input", "bad Content-Length"),
                             started, close=True)
                return
        if length > limit:
            self._answer(error_response(413, "payload_too_large",
                                        f"the request body is {length} bytes, over the limit "
                                        f"of {limit}"), started, close=True)
            return
        body = self.rfile.read(length) if length else b""
        request = ApiRequest(method=self.command, path=urlsplit(self.path).path,
                             headers=dict(self.headers.items()), body=body)
        self._answer(handle(request, self.server.store, self.server.config), started)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the structured line written by ``_answer`` replaces it."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: OpStore, config: ApiConfig) -> None:
        super().__init__(address, _Handler)
        self.store = store
        self.config = config
        self.counter = S3RequestCounter()
        self.counter.attach(store)


def make_server(store: OpStore, host: str = "127.0.0.1", port: int = 0,
                config: ApiConfig | None = None) -> ThreadingHTTPServer:
    """A server answering the API for ``store``; call ``serve_forever()`` on it."""
    return _Server((host, port), store, config or ApiConfig())


def serve(store_url: str | None, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Open ``store_url`` and serve the API until Ctrl-C."""
    store = OpStore.from_url(store_url)
    server = make_server(store, host, port)
    bound_host, bound_port = server.server_address[:2]
    print(f"s3opstore API for {store.url} on http://{bound_host!s}:{bound_port}/v1/ "
          "(Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
