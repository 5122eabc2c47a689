"""``s3opstore log [OP]``: the history, newest first (design.md, D16).

With OP: that op's history (its chain, its versions' chain and its versions' link
chains, merged by time).
Without: every chain (each op's and the store's own, which holds pipelines)
merged by time. ``--json`` prints the events as stored,
with their digests, so a script can verify them; ``fsck`` verifies the chains.
"""

from __future__ import annotations

import argparse
from typing import Any

from s3opstore.cli.output import Output
from s3opstore.models.events import Event
from s3opstore.registry.events import history
from s3opstore.registry.opstore import OpStore

__all__ = ["HELP", "add_arguments", "event_json", "run"]

HELP = "the history of writes (who, when, what), newest first; all ops merged without OP"


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("op", nargs="?", help="one op's history (default: every op and the store's)")
    cmd.add_argument("--limit", type=int, default=50, metavar="N",
                     help="at most N events (default: 50)")


def event_json(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    events = history(store.store, args.op, every=args.op is None, limit=args.limit)
    if out.json_mode:
        out.json({"op": args.op, "events": [event_json(event) for event in events]})
        return 0
    rows = [(event.at.isoformat(timespec="milliseconds"), event.actor, event.action,
             event.op or "(store)", (event.version or "")[:8] or None, event.name,
             event.seq, "recovered" if event.recovered else None) for event in events]
    out.table(f"history of {args.op}" if args.op else f"history of {store.url}",
              ["at", "actor", "action", "op", "version", "name", "seq", "note"], rows)
    return 0
