"""``deprecate``, ``archive``, ``restore``, ``hide`` and ``unhide``: retire without deleting.

Each appends to a create-only status log (kept forever); see
:mod:`s3opstore.registry.retire` for what a status changes.
"""

from __future__ import annotations

import argparse
from typing import Any

from s3opstore.cli.browse import op_and_ref
from s3opstore.cli.output import Output
from s3opstore.models.manifests import StatusManifest
from s3opstore.registry.opstore import OpStore

__all__ = ["VERSION_ACTIONS", "add_arguments", "run_op", "run_version", "status_json"]

VERSION_ACTIONS = {
    "deprecate": ("deprecated", "mark a version deprecated: it still loads, with a warning"),
    "archive": ("archived", "archive a version: loads refuse it unless allowed"),
    "restore": ("active", "make a deprecated or archived version active again"),
}
OP_ACTIONS = {
    "hide": (True, "leave an op out of listings (it stays readable by name)"),
    "unhide": (False, "list a hidden op again"),
}


def add_arguments(command: Any) -> None:
    for name, (_state, text) in VERSION_ACTIONS.items():
        cmd = command(name, run_version, text)
        cmd.add_argument("target", metavar="OP@REF", help="the version (OP alone: latest)")
        cmd.add_argument("--reason", help="why (kept in the status history)")
        cmd.add_argument("--idempotency-key", metavar="KEY")
    for name, (_hidden, text) in OP_ACTIONS.items():
        cmd = command(name, run_op, text)
        cmd.add_argument("op")
        cmd.add_argument("--reason", help="why (kept in the status history)")
        cmd.add_argument("--idempotency-key", metavar="KEY")


def status_json(entry: StatusManifest) -> dict[str, Any]:
    return {"op": entry.op_name, "version": None if entry.version is None else str(entry.version),
            "state": entry.state, "reason": entry.reason, "seq": entry.seq,
            "registered_at": entry.registered_at.isoformat()}


def _report(entry: StatusManifest, out: Output, what: str) -> int:
    if out.json_mode:
        out.json(status_json(entry))
    else:
        out.line(f"{what} is {entry.state}" + (f" ({entry.reason})" if entry.reason else ""))
    return 0


def run_version(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    op, ref = op_and_ref(args.target, None)
    state = VERSION_ACTIONS[args.command][0]
    record = store.resolve(op, ref)
    entry = store.set_version_status(op, record.version, state, reason=args.reason,
                                     idempotency_key=args.idempotency_key)
    return _report(entry, out, f"{op} {record.number_text}")


def run_op(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    entry = store.hide_op(args.op, hidden=OP_ACTIONS[args.command][0], reason=args.reason,
                          idempotency_key=args.idempotency_key)
    return _report(entry, out, f"op {args.op}")
