"""Argument parsing, store selection and error reporting for ``s3opstore``.

The store comes from ``--store URL``, else ``S3OPSTORE_URL``, else the
embedded default directory ``./.s3opstore`` (``OpStore.from_url(None)``).
``--store``, ``--json`` and ``--verbose`` are accepted before or after the
command name. A model URI in place of ``OP@REF`` names the store as well
(``cli/uris.py``).

Exit codes: 0 success; 1 the command ran and found a problem (``fsck``
problems, ``resolve`` missing links, ``import-chariots`` items it could not
migrate); 2 bad usage (argparse); 3 an error, printed as one line
``error [<kind>]: <message>`` (the kind is the exception's stable code), or
with ``--json`` as the JSON document ``{"error": {"type", "message"}}`` on
stdout; ``--verbose`` adds the traceback. A reader that closes the pipe early
(``| head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from s3opstore import __version__
from s3opstore.cli import (
    browse,
    completion,
    keys,
    log,
    maint,
    register,
    retire,
    search,
    serve,
    tags,
    transfer,
)
from s3opstore.cli.demo import run_demo
from s3opstore.cli.output import Output
from s3opstore.cli.uris import apply_model_uri
from s3opstore.errors import InvalidInputError, S3OpStoreError, StorageUnavailableError
from s3opstore.registry.opstore import OpStore

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_PROBLEMS", "build_parser", "main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 3

_REF_HELP = ("latest (default), a number like 1.2.0, an alias, a version string or a unique "
             "version id prefix")

_OP_REF_HELP = "op name, OP@REF, or a model URI s3opstore://bucket/prefix/OP@REF"

Command = Callable[[OpStore, argparse.Namespace, Output], int]


def _demo(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    summary = run_demo(store, Output(json_mode=out.json_mode, verbose=out.verbose))
    if out.json_mode:
        out.json(summary)
    return EXIT_OK


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--store", metavar="URL", default=default,
                        help="s3://bucket/prefix, file:///path or a directory "
                             "(default: $S3OPSTORE_URL, else ./.s3opstore)")
    parser.add_argument("--endpoint-url", metavar="URL", default=default,
                        help="S3 endpoint for s3:// stores (default: $AWS_ENDPOINT_URL_S3, "
                             "$AWS_ENDPOINT_URL, else AWS)")
    parser.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="print one JSON document (stable shapes, see docs/cli.md)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=False if top else argparse.SUPPRESS,
                        help="show error details (tracebacks)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3opstore", description="Browse and maintain an s3opstore op registry.")
    parser.add_argument("--version", action="version", version=f"s3opstore {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        _common(cmd, top=False)
        cmd.set_defaults(func=func)
        return cmd

    command("demo", _demo, "walk through the registry on the default store (idempotent)")
    cmd = command("ops", browse.ops, "list ops with their latest version")
    cmd.add_argument("--all", action="store_true", help="hidden ops too")
    cmd = command("versions", browse.versions, "list the versions of an op")
    cmd.add_argument("op")
    cmd = command("show", browse.show, "show one version (default: latest) and its bytes")
    cmd.add_argument("op", help=_OP_REF_HELP)
    cmd.add_argument("version", nargs="?", metavar="REF", help=_REF_HELP)
    cmd = command("links", browse.links, "versions of UPSTREAM validated for DOWNSTREAM")
    cmd.add_argument("downstream")
    cmd.add_argument("upstream")
    command("pipelines", browse.pipelines, "list pipelines")

    register.add_arguments(cmd := command("register", register.run, register.HELP))
    keys.add_sign_option(cmd)  # signs the bytes --file saves
    tags.add_arguments(command("tag", tags.run, tags.HELP),
                       lambda sub: _common(sub, top=False))
    search.add_arguments(command("search", search.run, search.HELP),
                         lambda sub: _common(sub, top=False))
    retire.add_arguments(command)
    cmd = command("push", transfer.push, "upload a file as the bytes of a version")
    cmd.add_argument("op")
    cmd.add_argument("file")
    cmd.add_argument("--version", required=True, help="the version string")
    cmd.add_argument("--register", action="store_true",
                     help="register the version first if it is not registered yet")
    cmd.add_argument("--idempotency-key", metavar="KEY")
    keys.add_sign_option(cmd)
    cmd = command("pull", transfer.pull, "download the bytes of a version (digest verified)")
    cmd.add_argument("op", help=_OP_REF_HELP)
    cmd.add_argument("--version", metavar="REF", help=_REF_HELP)
    cmd.add_argument("--alias", help="alias name (the same as --version ALIAS)")
    cmd.add_argument("--allow-archived", action="store_true",
                     help="pull an archived version anyway")
    cmd.add_argument("-o", "--output", metavar="FILE",
                     help="file, directory, or - for stdout (default: OP-NUMBER.bin here)")
    keys.add_trust_option(cmd)

    alias = command("alias", browse.alias_cmd, "aliases: movable named pointers to versions")
    actions = alias.add_subparsers(dest="alias_action", required=True, metavar="ACTION")
    cmd = actions.add_parser("set", help="point ALIAS at VERSION (compare-and-swap with --expect)")
    _common(cmd, top=False)
    cmd.add_argument("op")
    cmd.add_argument("alias")
    cmd.add_argument("version", metavar="REF", help=_REF_HELP)
    cmd.add_argument("--expect", metavar="REF",
                     help="only move the alias if it points at this version now")
    cmd.add_argument("--expect-none", action="store_true",
                     help="only set the alias if it does not exist yet")
    cmd.add_argument("--idempotency-key", metavar="KEY")
    cmd = actions.add_parser("delete", help="delete ALIAS (its history keeps the deletion)")
    _common(cmd, top=False)
    cmd.add_argument("op")
    cmd.add_argument("alias")
    cmd.add_argument("--expect", metavar="REF",
                     help="only delete the alias if it points at this version now")
    cmd.add_argument("--idempotency-key", metavar="KEY")
    cmd = actions.add_parser("get", help="the version an alias points at")
    _common(cmd, top=False)
    cmd.add_argument("op")
    cmd.add_argument("alias")
    cmd = actions.add_parser("list", help="the aliases of an op")
    _common(cmd, top=False)
    cmd.add_argument("op")
    cmd = actions.add_parser("history", help="every position an alias took")
    _common(cmd, top=False)
    cmd.add_argument("op")
    cmd.add_argument("alias")

    cmd = command("resolve", browse.resolve,
                  "the version of each op a pipeline would load, or the missing link")
    cmd.add_argument("pipeline")

    cmd = command("gc", maint.gc,
                  "delete unreferenced blobs and leftovers older than a grace period")
    cmd.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    cmd.add_argument("--grace", type=float, default=24.0, metavar="HOURS",
                     help="minimum age on the store's clock (default: 24)")
    cmd = command("fsck", maint.fsck, "check every manifest and reference; non-zero on problems")
    cmd.add_argument("--deep", action="store_true", help="also re-hash every blob")
    keys.add_trust_option(cmd)
    cmd.add_argument("--repair", action="store_true",
                     help="first append a recovered event for every write the history lacks")
    keys.add_arguments(command("keys", keys.run, keys.HELP), lambda sub: _common(sub, top=False))
    log.add_arguments(command("log", log.run, log.HELP))
    cmd = command("import-chariots", maint.import_chariots,
                  "migrate a Chariots OpStore (database + saved files) into the store")
    cmd.add_argument("--db", required=True, metavar="URL", help="sqlite:///path/to/db")
    cmd.add_argument("--ops-dir", required=True, metavar="DIR",
                     help="the FileSaver root holding models/<op>/<version>")
    serve.add_arguments(command("serve", serve.run, serve.HELP))
    # No store and no func: main() answers it before opening anything.
    cmd = sub.add_parser("completion", help=completion.HELP, description=completion.HELP)
    cmd.add_argument("shell", choices=completion.SHELLS)
    return parser


def open_store(url: str | None, endpoint_url: str | None) -> OpStore:
    """The store ``--store`` names; ``--endpoint-url`` applies to ``s3://`` stores."""
    if endpoint_url is None:
        return OpStore.from_url(url)
    resolved = url or os.environ.get("S3OPSTORE_URL") or ""
    if not resolved.startswith("s3://"):
        raise InvalidInputError(
            f"--endpoint-url {endpoint_url!r} applies to s3:// stores only, not "
            f"{resolved or 'the default local directory'!r}")
    from s3opstore.stores.s3 import default_client

    return OpStore.from_url(resolved, client=default_client(endpoint_url=endpoint_url))


def _endpoint(store: OpStore | None) -> str | None:
    client: Any = getattr(getattr(store, "store", None), "client", None)
    return getattr(getattr(client, "meta", None), "endpoint_url", None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "completion":
        sys.stdout.write(completion.completion_script(parser, args.shell))
        return EXIT_OK
    apply_model_uri(parser, args)
    out = Output(json_mode=args.json, verbose=args.verbose)
    store: OpStore | None = None
    try:
        store = keys.apply(open_store(args.store, args.endpoint_url), args)
        code: int = args.func(store, args, out)
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except StorageUnavailableError as exc:
        endpoint = _endpoint(store)
        where = f" (endpoint {endpoint})" if endpoint and endpoint not in exc.message else ""
        return _fail(out, exc.kind, exc.message + where)
    except S3OpStoreError as exc:
        return _fail(out, exc.kind, exc.message)
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return _closed_pipe()
        return _fail(out, "os_error", _os_message(exc))
    except KeyboardInterrupt:
        return _fail(out, "interrupted", "interrupted")


def _os_message(exc: OSError) -> str:
    """``strerror: filename`` without the ``[Errno N]`` prefix."""
    text = exc.strerror or str(exc)
    name = exc.filename2 or exc.filename  # os.replace(tmp, target): the target is the news
    return f"{text}: {name}" if name else text


def _closed_pipe() -> int:
    """The reader went away (``| head``): stop quietly, without a second EPIPE at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # captured or already closed stdout: nothing to redirect
        pass
    return EXIT_OK


def _fail(out: Output, kind: str, message: str) -> int:
    if out.verbose:
        traceback.print_exc()
    line = " ".join(message.split())  # one line, whatever the message carried
    if out.json_mode:
        try:
            sys.stdout.write(orjson.dumps({"error": {"type": kind, "message": line}}).decode()
                             + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            _closed_pipe()
        return EXIT_ERROR
    sys.stderr.write(f"error [{kind}]: {line}\n")
    sys.stderr.flush()
    return EXIT_ERROR
