"""The HTTP API as a WSGI application, with the guards a server holding pickles needs.

``make_app(store, config, guard)`` wraps the pure :func:`~s3opstore.api.handle`
core. ``s3opstore serve`` runs it under waitress; any WSGI server can run it
too (``s3opstore.api.wsgi:app_from_env`` builds one from environment
variables, e.g. for ``gunicorn``).

Checks, in order, all before the body is read and before any store request
(each answers a JSON error and writes nothing):

1. the peer address must be in ``guard.networks`` when that list is set (403
   ``forbidden_client``);
2. the ``Host`` header must name loopback, an IP address, this machine, or a
   name in ``guard.hosts`` (403 ``forbidden_host``: DNS rebinding);
3. a request carrying an ``Origin`` header (browsers send it on cross-origin
   requests, ``no-cors`` ones included) is refused unless that origin is in
   ``guard.origins`` (403 ``cross_origin``); no CORS headers are ever sent.
   One exception: the web UI's own origin (``http(s)://`` + the ``Host`` that
   passed check 2) may call the *read* routes, which is how the pages at
   ``/ui/`` (:mod:`s3opstore.api.webui`) fetch their JSON; its writes are
   still refused;
4. writes must be ``Content-Type: application/json`` (415
   ``unsupported_media_type``: a form or ``text/plain`` is what a page can post
   without preflight);
5. writes must carry ``Authorization: Bearer <token>`` when ``guard.token`` is
   set (401 ``unauthorized``).

The seed's large-body routes stream: ``save_op_bytes`` bodies over
``STREAM_THRESHOLD`` are decoded straight to a temporary file and
``get_op_bytes_for_version`` answers are sent from one
(:mod:`s3opstore.api.streaming`), so a 100 MiB model costs about a megabyte of
server memory. Other routes keep ``config.max_body_bytes``.

``GET /ui/...`` serves the read-only web UI's files after checks 1-3.

One JSON log line per request goes to ``log_stream`` (stderr), with the S3
requests counted on the request's own thread.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TextIO

from s3opstore.api.handler import (
    handle,
    handle_op_bytes_stream,
    handle_save_stream,
    handle_unread,
)
from s3opstore.api.observe import S3RequestCounter, log_request
from s3opstore.api.responses import error_response
from s3opstore.api.routes import routes_by_path
from s3opstore.api.streaming import OpBytesStream
from s3opstore.api.types import ApiConfig, ApiRequest, ApiResponse
from s3opstore.api.webui import is_ui_path, ui_response
from s3opstore.errors import ConfigurationError
from s3opstore.registry.opstore import OpStore

__all__ = ["DEFAULT_MAX_STREAM_BYTES", "SERVE_TOO_LARGE_ADVICE", "STREAM_THRESHOLD", "Guard",
           "app_from_env", "make_app", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
StartResponse = Callable[..., Any]

STREAM_THRESHOLD = 1024 * 1024
DEFAULT_MAX_STREAM_BYTES = 4 * 1024**3  # a 3 GiB model in base64
SERVE_TOO_LARGE_ADVICE = ("raise `s3opstore serve --max-body-bytes`, or move the bytes with "
                          "`s3opstore push`/`pull` or /v1/presign_upload + /v1/commit_upload")
_ROUTES = routes_by_path()
_SAVE = "/v1/save_op_bytes"
_LOAD = "/v1/get_op_bytes_for_version"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_TOKEN_ENV = "S3OPSTORE_TOKEN"  # noqa: S105 - a variable name


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR texts (``10.0.0.0/8``, ``192.168.1.7``) as networks; a bad one is misconfigured."""
    found: list[Network] = []
    for value in values:
        try:
            found.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ConfigurationError(f"{value!r} is not an IP network (e.g. 10.0.0.0/8)") from None
    return tuple(found)


@functools.cache
def _own_names() -> frozenset[str]:
    names = {socket.gethostname().lower()}
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn().lower())
    return frozenset(n.rstrip(".") for n in names if n)


@dataclass(frozen=True)
class Guard:
    """Who may talk to the server, and how.

    ``token``: bearer token writes must carry (``None``: no token).
    ``networks``: client networks allowed (empty: anyone who can connect);
    loopback is always allowed.
    ``hosts``: names accepted in ``Host`` besides loopback names, IP addresses
    and this machine's own names.
    ``origins``: browser origins allowed to call (empty: none).
    """

    token: str | None = None
    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    own_names: frozenset[str] = field(default_factory=lambda: _own_names())

    def client_allowed(self, address: str) -> bool:
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if ip.is_loopback:
            return True
        mapped = getattr(ip, "ipv4_mapped", None)
        return any(ip in net or (mapped is not None and mapped in net) for net in self.networks)

    def host_allowed(self, host: str) -> bool:
        name = _host_name(host)
        if not name:
            return False
        try:
            ipaddress.ip_address(name)
            return True  # rebinding needs a name the attacker controls; an address is not one
        except ValueError:
            pass
        return name in _LOOPBACK_NAMES or name in self.own_names or name in self.hosts

    def token_ok(self, header: str | None) -> bool:
        if self.token is None:
            return True
        if header is None or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self.token.encode())


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [v6]:port
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class _App:
    def __init__(self, store: OpStore, config: ApiConfig, guard: Guard,
                 log_stream: TextIO | None) -> None:
        self.store, self.config, self.guard = store, config, guard
        self.log_stream = log_stream
        self.counter = S3RequestCounter()
        self.counter.attach(store)

    def _refusal(self, environ: dict[str, Any], method: str, path: str) -> ApiResponse | None:
        guard = self.guard
        peer = str(environ.get("REMOTE_ADDR", ""))
        if not guard.client_allowed(peer):
            return error_response(403, "forbidden_client",
                                  f"client address {peer!r} is not in the allowed networks")
        host = environ.get("HTTP_HOST")
        if not host or not guard.host_allowed(str(host)):
            shown = repr(str(host)[:100]) if host else "(none)"
            return error_response(403, "forbidden_host",
                                  f"Host {shown} is not a name this server answers to; "
                                  "start it with --allow-host NAME")
        origin = environ.get("HTTP_ORIGIN")
        route = _ROUTES.get(path)
        if origin is not None and origin not in guard.origins and not (
                _same_origin(origin, str(host)) and (route is None or not route.write)):
            return error_response(403, "cross_origin",
                                  f"requests from browser origin {origin[:100]!r} are refused")
        if route is None or not route.write or method != route.method:
            return None  # reads, and 404/405 answered by the core
        kind = str(environ.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()
        if kind != "application/json":
            return error_response(415, "unsupported_media_type",
                                  f"{route.path} needs Content-Type: application/json, "
                                  f"not {kind or '(none)'!r}", route=route.name)
        if not guard.token_ok(environ.get("HTTP_AUTHORIZATION")):
            return error_response(401, "unauthorized",
                                  f"{route.path} needs Authorization: Bearer <token>",
                                  route=route.name, headers={"WWW-Authenticate": "Bearer"})
        return None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        started = time.perf_counter()
        self.counter.reset()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO", "/"))
        response: ApiResponse | OpBytesStream | None = self._refusal(environ, method, path)
        if response is None and is_ui_path(path):
            response = ui_response(method, path)
        if response is None:
            response = self._answer(environ, method, path)
        if isinstance(response, OpBytesStream):
            self._log("get_op_bytes_for_version", method, 200, None, started)
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Cache-Control", "no-store"),
                                      ("Content-Length", str(response.length))])
            return response
        self._log(response.route, method, response.status, response.error_type, started)
        headers = [*response.headers.items(), ("Content-Length", str(len(response.body)))]
        start_response(_status_line(response.status), headers)
        return [] if method == "HEAD" else [response.body]

    def _answer(self, environ: dict[str, Any], method: str, path: str
                ) -> ApiResponse | OpBytesStream:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "invalid_input", "bad Content-Length")
        headers = {key[5:].replace("_", "-").title(): str(value)
                   for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        source = environ["wsgi.input"]
        if path == _SAVE and method == "POST" and length > STREAM_THRESHOLD:
            return handle_save_stream(ApiRequest(method, path, headers), source, length,
                                      self.store, self._stream_config)
        if length > self.config.max_body_bytes:
            return handle_unread(ApiRequest(method, path, headers), length, self.config)
        body = source.read(length) if length else b""
        request = ApiRequest(method, path, headers, body)
        if path == _LOAD and method == "POST":
            return handle_op_bytes_stream(request, self.store, self.config)
        return handle(request, self.store, self.config)

    @property
    def _stream_config(self) -> ApiConfig:
        return ApiConfig(max_body_bytes=self.max_stream_bytes,
                         max_response_bytes=self.config.max_response_bytes,
                         presign_expires=self.config.presign_expires,
                         too_large_advice=self.config.too_large_advice)

    max_stream_bytes = DEFAULT_MAX_STREAM_BYTES

    def _log(self, route: str | None, method: str, status: int, error_type: str | None,
             started: float) -> None:
        log_request(route=route, method=method, status=status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    s3_requests=self.counter.count, request_id=None, error_type=error_type,
                    stream=self.log_stream or sys.stderr)


def _same_origin(origin: str, host: str) -> bool:
    """Whether a browser's ``Origin`` is this server's own (the web UI's pages)."""
    host = host.strip().lower()
    return origin.lower() in (f"http://{host}", f"https://{host}")


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def make_app(store: OpStore, config: ApiConfig | None = None, guard: Guard | None = None, *,
             max_stream_bytes: int = DEFAULT_MAX_STREAM_BYTES,
             log_stream: TextIO | None = None) -> Callable[..., Iterable[bytes]]:
    """The WSGI application serving ``store``."""
    app = _App(store, config or ApiConfig(too_large_advice=SERVE_TOO_LARGE_ADVICE),
               guard or Guard(), log_stream)
    app.max_stream_bytes = max_stream_bytes
    return app


def app_from_env() -> Callable[..., Iterable[bytes]]:
    """An app for any WSGI server: ``S3OPSTORE_URL``, ``S3OPSTORE_TOKEN``,
    ``S3OPSTORE_ALLOW_HOSTS`` and ``S3OPSTORE_ALLOW_NETWORKS`` (comma separated)."""
    def listed(name: str) -> list[str]:
        return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]

    guard = Guard(token=os.environ.get(_TOKEN_ENV) or None,
                  networks=parse_networks(listed("S3OPSTORE_ALLOW_NETWORKS")),
                  hosts=frozenset(h.lower() for h in listed("S3OPSTORE_ALLOW_HOSTS")))
    return make_app(OpStore.from_url(os.environ.get("S3OPSTORE_URL")), guard=guard)
