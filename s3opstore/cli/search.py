"""``search versions`` and ``search ops``: filtered, paginated listings.

Filters are those of :mod:`s3opstore.registry.search`; ``--after`` takes the
``next_after`` a previous page printed (``--json``) or noted (tables).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from s3opstore.cli.browse import record_json
from s3opstore.cli.output import Output, short_version
from s3opstore.cli.register import pairs
from s3opstore.errors import InvalidInputError
from s3opstore.registry.opstore import OpStore

__all__ = ["HELP", "add_arguments", "run"]

HELP = "find versions by tag, metric, time or alias, and ops by name pattern or tag"


def add_arguments(cmd: argparse.ArgumentParser, common: Any) -> None:
    actions = cmd.add_subparsers(dest="search_what", required=True, metavar="WHAT")
    sub = actions.add_parser("versions", help="versions of OP passing every filter given")
    common(sub)
    sub.add_argument("op")
    sub.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="a registration or current mutable tag (repeatable)")
    sub.add_argument("--metric", action="append", default=[], metavar="NAME>=X",
                     help="a registration metric range: NAME and one of >=, <=, >, <, = "
                          "and a number (repeatable)")
    sub.add_argument("--since", metavar="ISO8601", help="registered at or after")
    sub.add_argument("--until", metavar="ISO8601", help="registered before")
    sub.add_argument("--alias", help="the version this alias points at")
    _paging(sub)
    sub = actions.add_parser("ops", help="ops whose name matches PATTERN (a glob)")
    common(sub)
    sub.add_argument("pattern", nargs="?", default="*")
    sub.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="a current mutable tag of the op (repeatable)")
    _paging(sub)


def _paging(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--limit", type=int, default=100, help="page size (default 100, max 1000)")
    sub.add_argument("--after", metavar="CURSOR", help="next_after of the previous page")


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{flag} {text!r} is not an ISO 8601 date and time") from None


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    if args.search_what == "ops":
        page = store.search_ops(args.pattern, tags=pairs(args.tag, "--tag"), limit=args.limit,
                                after=args.after)
        next_after = page.next_after
        if out.json_mode:
            out.json({"ops": page.items, "next_after": next_after})
        else:
            out.table(f"ops matching {args.pattern}", ["op"], [[name] for name in page.items])
    else:
        hits = store.search_versions(
            args.op, tags=pairs(args.tag, "--tag"), metrics=args.metric,
            registered_after=_time(args.since, "--since"),
            registered_before=_time(args.until, "--until"), alias=args.alias,
            limit=args.limit, after=args.after)
        next_after = hits.next_after
        rows = [{**record_json(hit.record),
                 "metrics": None if hit.metadata is None else hit.metadata.metrics,
                 "tags": {**(hit.metadata.tags if hit.metadata else {}), **hit.tags}}
                for hit in hits.items]
        if out.json_mode:
            out.json({"op": args.op, "versions": rows, "next_after": hits.next_after})
        else:
            out.table(f"versions of {args.op}", ["seq", "number", "version", "registered"],
                      [[r["seq"], r["number"], short_version(r["version"]), r["registered_at"]]
                       for r in rows])
    if next_after is not None and not out.json_mode:
        out.note(f"more: add --after {next_after}")
    return 0
