"""``s3opstore serve``: the HTTP API (Chariots' routes and the new ones) under waitress."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from s3opstore.api.server import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_PORT,
    DEFAULT_THREADS,
    make_server,
)
from s3opstore.api.wsgi import DEFAULT_MAX_STREAM_BYTES, Guard, parse_networks
from s3opstore.cli.output import Output
from s3opstore.errors import ConfigurationError
from s3opstore.registry.opstore import OpStore

__all__ = ["HELP", "TOKEN_ENV", "add_arguments", "run"]

HELP = "serve the HTTP API (Chariots' OpStore routes) on a production WSGI server"
TOKEN_ENV = "S3OPSTORE_TOKEN"  # noqa: S105 - a variable name


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--host", default="127.0.0.1",
                     help="address to bind (default: 127.0.0.1, loopback only)")
    cmd.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port (default: {DEFAULT_PORT}; 0 picks a free one)")
    cmd.add_argument("--workers", type=int, default=DEFAULT_THREADS, metavar="N",
                     help=f"requests served at once, in threads (default: {DEFAULT_THREADS})")
    cmd.add_argument("--token-file", metavar="FILE",
                     help=f"writes need 'Authorization: Bearer <token>' with the token in FILE "
                          f"(default: ${TOKEN_ENV} when set)")
    cmd.add_argument("--allow-network", action="append", default=[], metavar="CIDR",
                     help="only clients in this network may connect (repeatable; loopback is "
                          "always allowed): the way to serve Chariots workers, which send no "
                          "credentials")
    cmd.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                     help="a name clients use in Host besides localhost, IP addresses and "
                          "this machine's names (repeatable)")
    cmd.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                     help="a browser origin allowed to call (repeatable; default: none)")
    cmd.add_argument("--allow-anyone", action="store_true",
                     help="bind beyond loopback with no token and no network allow-list")
    cmd.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_STREAM_BYTES,
                     metavar="N", help="largest request body, i.e. save_op_bytes with base64 "
                                       f"(default: {DEFAULT_MAX_STREAM_BYTES})")
    cmd.add_argument("--idle-timeout", type=int, default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                     help="close connections idle (or a client stalled) this long "
                          f"(default: {DEFAULT_IDLE_TIMEOUT})")


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read --token-file {args.token_file!r}: "
                                     f"{exc.strerror}") from None
        if not token:
            raise ConfigurationError(f"--token-file {args.token_file!r} is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip() or None


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    for name, value, low in (("--workers", args.workers, 1), ("--port", args.port, 0),
                             ("--max-body-bytes", args.max_body_bytes, 1024),
                             ("--idle-timeout", args.idle_timeout, 1)):
        if value < low:
            raise ConfigurationError(f"{name} must be at least {low}, not {value}")
    guard = Guard(token=_token(args), networks=parse_networks(args.allow_network),
                  hosts=frozenset(h.lower().rstrip(".") for h in args.allow_host),
                  origins=frozenset(args.allow_origin))
    server = make_server(store, args.host, args.port, guard=guard, threads=args.workers,
                         idle_timeout=args.idle_timeout, max_body_bytes=args.max_body_bytes,
                         allow_anyone=args.allow_anyone)
    signal.signal(signal.SIGTERM, _stop)
    writes = "writes need the token" if guard.token else "no token"
    sys.stderr.write(f"s3opstore API for {store.url} on {server.url}/v1/ ({writes}; "
                     f"read-only web UI at {server.url}/ui/; Ctrl-C stops)\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
