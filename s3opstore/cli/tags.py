"""``tag``: the mutable tags of an op (``OP``) or of a version (``OP@REF``).

Every change appends the whole new tag set to a create-only log, so
``tag history`` shows every state the tags took.
"""

from __future__ import annotations

import argparse
from typing import Any

from s3opstore.cli.output import Output
from s3opstore.cli.register import pairs
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.refs import split_op_ref

__all__ = ["HELP", "add_arguments", "run"]

HELP = "mutable tags of an op (OP) or of a version (OP@REF), with their history"


def add_arguments(cmd: argparse.ArgumentParser, common: Any) -> None:
    actions = cmd.add_subparsers(dest="tag_action", required=True, metavar="ACTION")
    sub = actions.add_parser("set", help="set KEY=VALUE tags, remove --unset KEY ones")
    common(sub)
    sub.add_argument("target", metavar="OP[@REF]")
    sub.add_argument("tags", nargs="*", metavar="KEY=VALUE")
    sub.add_argument("--unset", action="append", default=[], metavar="KEY")
    sub.add_argument("--idempotency-key", metavar="KEY")
    for name, text in (("list", "the current tags"), ("history", "every state the tags took")):
        sub = actions.add_parser(name, help=text)
        common(sub)
        sub.add_argument("target", metavar="OP[@REF]")


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    op, ref = split_op_ref(args.target)
    where = {"op": op, "version": None}
    if ref is not None:
        where["version"] = str(store.resolve(op, ref).version)
    version = where["version"]
    if args.tag_action == "set":
        entry = store.set_tags(op, pairs(args.tags, "tag"), unset=args.unset, version=version,
                               idempotency_key=args.idempotency_key)
        tags = dict(entry.tags)
    elif args.tag_action == "list":
        tags = store.get_tags(op, version)
    else:
        history = [{"seq": e.seq, "tags": dict(e.tags),
                    "registered_at": e.registered_at.isoformat()}
                   for e in store.tag_history(op, version)]
        if out.json_mode:
            out.json({**where, "history": history})
        else:
            out.table(f"tag history of {args.target}", ["#", "tags", "set at"],
                      [[h["seq"], _text(h["tags"]), h["registered_at"]] for h in history])
        return 0
    if out.json_mode:
        out.json({**where, "tags": tags})
    else:
        out.table(f"tags of {args.target}", ["tag", "value"], sorted(tags.items()))
    return 0


def _text(tags: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "-"
