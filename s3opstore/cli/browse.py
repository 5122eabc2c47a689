"""Read-mostly commands: ops, versions, show, links, pipelines, aliases, resolve.

Each command returns its exit code and prints either a table (people) or
one JSON document (``--json``; shapes documented in ``docs/cli.md``).
"""

from __future__ import annotations

import argparse
from typing import Any

from s3opstore.cli.output import Output, short_version
from s3opstore.errors import BytesNotFoundError, InvalidInputError, OpNotFoundError
from s3opstore.models.manifests import AliasManifest, VersionRecord
from s3opstore.registry.aliases import UNSET
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.refs import LATEST, split_op_ref

__all__ = ["alias_cmd", "links", "op_and_ref", "ops", "pipelines", "record_json", "resolve", "show",
           "versions"]


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def record_json(record: VersionRecord) -> dict[str, Any]:
    """The stable JSON shape of one version record."""
    version = record.version
    return {"op": record.op_name, "version": str(version), "number": record.number_text,
            "seq": record.seq, "major": version.major, "minor": version.minor,
            "patch": version.patch, "creation_time": version.creation_time.isoformat(),
            "registered_at": _time(record.registered_at),
            "registered_host": record.registered_host, "registered_pid": record.registered_pid}


def _alias_json(entry: AliasManifest) -> dict[str, Any]:
    return {"op": entry.op_name, "alias": entry.alias, "seq": entry.seq,
            "version": str(entry.version), "registered_at": _time(entry.registered_at),
            "registered_host": entry.registered_host, "registered_pid": entry.registered_pid,
            "deleted": entry.deleted}


def ops(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    rows = []
    for op in store.list_ops(include_hidden=args.all):
        latest = store.latest_version(op)
        rows.append({"op": op, "versions": 0 if latest is None else latest.seq + 1,
                     "latest_number": None if latest is None else latest.number_text,
                     "latest_version": None if latest is None else str(latest.version)})
    if out.json_mode:
        out.json({"ops": rows})
    else:
        out.table(f"ops in {store.url}", ["op", "versions", "latest", "latest version"],
                  [[r["op"], r["versions"], r["latest_number"],
                    r["latest_version"] and short_version(r["latest_version"])]
                   for r in rows])
    return 0


def _require_op(store: OpStore, op: str, what: str = "op") -> None:
    if not store.op_exists(op):
        raise OpNotFoundError(f"{what} {op!r} is not known to the store (no versions, no "
                              "pipeline names it, no link leads to it)")


def versions(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    records = store.get_versions(args.op)
    if not records:
        _require_op(store, args.op)
        if not out.json_mode:
            out.note(f"op {args.op!r} has no registered versions")
    if out.json_mode:
        out.json({"op": args.op, "versions": [record_json(r) for r in records]})
    else:
        out.table(f"versions of {args.op}", ["seq", "number", "version", "registered"],
                  [[r.seq, r.number_text, short_version(r.version), _time(r.registered_at)]
                   for r in records])
    return 0


def op_and_ref(op: str, ref: str | None) -> tuple[str, str]:
    """``OP [REF]`` or ``OP@REF`` (an explicit REF keeps an ``@`` in OP literal)."""
    if ref is not None:
        return op, ref
    name, text = split_op_ref(op)
    return name, text or LATEST


def show(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    args.op, ref = op_and_ref(args.op, args.version)
    record = store.resolve(args.op, ref)
    try:
        info = store.op_bytes_info(args.op, record.version, verify=False)  # shown only
        data: dict[str, Any] | None = {"sha256": info.sha256, "size": info.size,
                                       "key": info.key, "signed_by": info.signer}
    except BytesNotFoundError:
        data = None
    pointing = []
    for alias in store.list_aliases(args.op):
        entry = store.alias_history(args.op, alias)[-1]
        if entry.version == record.version:
            pointing.append(alias)
    meta = store.get_metadata(args.op, record.version)
    metadata = None if meta is None else {
        "description": meta.description, "tags": meta.tags, "params": meta.params,
        "metrics": meta.metrics, "source": meta.source}
    tags = store.get_tags(args.op, record.version)
    status = store.status(args.op, record.version)
    result = {**record_json(record), "bytes": data, "aliases": pointing,
              "metadata": metadata, "tags": tags,
              "status": "active" if status is None else status.state}
    if out.json_mode:
        out.json(result)
        return 0
    rows = [[name, "-" if value is None else value] for name, value in result.items()
            if name not in ("bytes", "aliases", "metadata", "tags")]
    rows.append(["aliases", ", ".join(pointing) or "-"])
    if meta is not None:
        if meta.description:
            rows.append(["description", meta.description])
        sections: list[tuple[str, dict[str, Any]]] = [
            ("tag", dict(meta.tags)), ("param", dict(meta.params)),
            ("metric", dict(meta.metrics)), ("source", dict(meta.source))]
        for label, values in sections:
            rows += [[f"{label} {key}", value] for key, value in sorted(values.items())]
    for key, value in sorted(tags.items()):
        rows.append([f"tag (mutable) {key}", value])
    if data is None:
        rows.append(["bytes", "none saved"])
    else:
        rows += [["bytes sha256", data["sha256"]], ["bytes size", data["size"]],
                 ["bytes key", data["key"]],
                 ["bytes signed by", data["signed_by"] or "unsigned"]]
    out.table(f"{args.op} {record.number_text}", ["field", "value"], rows)
    return 0


def links(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    linked = store.get_validated_links(args.downstream, args.upstream)
    if not linked:
        _require_op(store, args.downstream, "downstream op")
        _require_op(store, args.upstream, "upstream op")
    numbers = {r.version: r for r in store.get_versions(args.upstream)}
    items = sorted(linked, key=lambda v: (numbers[v].seq if v in numbers else -1, v.vid))
    rows = [{"version": str(v),
             "number": numbers[v].number_text if v in numbers else None} for v in items]
    if out.json_mode:
        out.json({"downstream": args.downstream, "upstream": args.upstream, "versions": rows})
    else:
        out.table(f"versions of {args.upstream} validated for {args.downstream}",
                  ["number", "version"], [[r["number"], short_version(r["version"])] for r in rows])
    return 0


def pipelines(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    rows = []
    for name in store.list_pipelines():
        manifest = store.get_pipeline(name)
        rows.append({"pipeline": name, "last_op": manifest.last_op_name,
                     "registered_at": _time(manifest.registered_at)})
    if out.json_mode:
        out.json({"pipelines": rows})
    else:
        out.table("pipelines", ["pipeline", "last op", "registered"],
                  [[r["pipeline"], r["last_op"], r["registered_at"]] for r in rows])
    return 0


def resolve(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    resolution = store.resolve_pipeline(args.pipeline)
    if out.json_mode:
        out.json(resolution.to_json())
    else:
        out.table(f"pipeline {resolution.pipeline} (last op {resolution.last_op})",
                  ["op", "number", "version", "latest?", "feeds"],
                  [[op.op_name, op.record.number_text, short_version(op.record.version),
                    "yes" if op.is_latest else "no", ", ".join(op.downstream) or "(output)"]
                   for op in resolution.ops])
        for missing in resolution.missing:
            out.note(f"missing link: {missing.reason}")
    return 0 if resolution.ok else 1


def alias_cmd(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    action = args.alias_action
    if action == "set":
        if args.expect is not None and args.expect_none:
            raise InvalidInputError("use either --expect VERSION or --expect-none, not both")
        expected: Any = UNSET
        if args.expect_none:
            expected = None
        elif args.expect is not None:
            expected = store.resolve(args.op, args.expect).version
        target = store.resolve(args.op, args.version)
        entry = store.set_alias(args.op, args.alias, target.version, expected=expected,
                                idempotency_key=args.idempotency_key)
        if out.json_mode:
            out.json({**_alias_json(entry), "number": target.number_text})
        else:
            out.line(f"{args.op}@{args.alias} -> {target.number_text} {entry.version} "
                     f"(position #{entry.seq})")
        return 0
    if action == "delete":
        entry = store.delete_alias(args.op, args.alias,
                                   expected=UNSET if args.expect is None else args.expect,
                                   idempotency_key=args.idempotency_key)
        if out.json_mode:
            out.json(_alias_json(entry))
        else:
            out.line(f"deleted {args.op}@{args.alias} (it pointed at {entry.version}; "
                     f"position #{entry.seq} of its history)")
        return 0
    if action == "get":
        record = store.get_alias(args.op, args.alias)
        if out.json_mode:
            out.json({"op": args.op, "alias": args.alias, **{
                k: v for k, v in record_json(record).items() if k != "op"}})
        else:
            out.line(f"{args.op}@{args.alias} -> {record.number_text} {record.version}")
        return 0
    if action == "list":
        numbers = {r.version: r.number_text for r in store.get_versions(args.op)}
        rows = []
        for alias in store.list_aliases(args.op):
            history = store.alias_history(args.op, alias)
            current = history[-1]
            rows.append({"alias": alias, "version": str(current.version),
                         "number": numbers.get(current.version), "positions": len(history),
                         "updated_at": _time(current.registered_at)})
        if out.json_mode:
            out.json({"op": args.op, "aliases": rows})
        else:
            out.table(f"aliases of {args.op}", ["alias", "number", "version", "moves", "updated"],
                      [[r["alias"], r["number"], short_version(r["version"]), r["positions"],
                        r["updated_at"]]
                       for r in rows])
        return 0
    # history
    history = store.alias_history(args.op, args.alias)
    if not history:
        store.get_alias(args.op, args.alias)  # raises AliasNotFoundError
    numbers = {r.version: r.number_text for r in store.get_versions(args.op)}
    entries = [{**_alias_json(e), "number": numbers.get(e.version)} for e in history]
    if out.json_mode:
        out.json({"op": args.op, "alias": args.alias, "history": entries})
    else:
        out.table(f"history of {args.op}@{args.alias}", ["#", "number", "version", "set at"],
                  [[e["seq"], e["number"],
                    ("deleted (was " + short_version(e["version"]) + ")") if e["deleted"]
                    else short_version(e["version"]), e["registered_at"]]
                   for e in entries])
    return 0
