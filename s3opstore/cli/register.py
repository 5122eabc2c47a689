"""``register``: run a registry from the command line alone, without Chariots.

The version is either given whole (``--version STRING``) or built from its
three parts (:func:`s3opstore.registry.build.build_version`): each of
``--major``, ``--minor``, ``--patch`` is a file or directory whose contents are
hashed, or ``text:VALUE`` for literal text; a part left out is empty, as in
Chariots. ``--file`` also saves the op's bytes, and ``--alias`` points an alias
at the new version, so one command takes a trained model into the registry.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from s3opstore.cli.browse import record_json
from s3opstore.cli.output import Output
from s3opstore.errors import InvalidInputError
from s3opstore.models.version import Version
from s3opstore.registry.build import Part, build_version
from s3opstore.registry.opstore import OpStore

__all__ = ["HELP", "add_arguments", "pairs", "run"]

HELP = "register a version from its three parts (files, directories or text:VALUE)"
_TEXT = "text:"


def add_arguments(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("op")
    for name, what in (("major", "the interface or meaning: hyper-parameters, code"),
                       ("minor", "the learned state: a re-fit on new data"),
                       ("patch", "anything else")):
        cmd.add_argument(f"--{name}", metavar="PART",
                         help=f"{what}; a file or directory to hash, or text:VALUE "
                              "(default: empty)")
    cmd.add_argument("--version", metavar="STRING",
                     help="the whole version string instead of the three parts")
    cmd.add_argument("--created", metavar="ISO8601",
                     help="the version's creation time (default: now, UTC)")
    cmd.add_argument("--file", metavar="FILE", help="also save FILE as the version's bytes")
    cmd.add_argument("--alias", help="also point this alias at the version")
    cmd.add_argument("--description", help="what this version is (immutable, like all below)")
    cmd.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                     help="a registration tag (repeatable)")
    cmd.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="a parameter; VALUE is read as JSON when it parses, else as text")
    cmd.add_argument("--metric", action="append", default=[], metavar="KEY=NUMBER",
                     help="a metric (repeatable)")
    cmd.add_argument("--source", action="append", default=[], metavar="KEY=VALUE",
                     help="where it came from: commit=..., run_url=..., user=...")
    cmd.add_argument("--idempotency-key", metavar="KEY")


def pairs(values: list[str], flag: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a value without ``=`` is refused."""
    result: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{flag} {value!r} is not KEY=VALUE")
        result[key] = text
    return result


def _param(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if value is None or isinstance(value, str | int | float | bool) else text


def _metadata(args: argparse.Namespace) -> dict[str, Any]:
    metrics: dict[str, float] = {}
    for key, text in pairs(args.metric, "--metric").items():
        try:
            metrics[key] = float(text)
        except ValueError:
            raise InvalidInputError(f"--metric {key}={text!r}: not a number") from None
    return {"description": args.description, "tags": pairs(args.tag, "--tag"),
            "params": {k: _param(v) for k, v in pairs(args.param, "--param").items()},
            "metrics": metrics, "source": pairs(args.source, "--source")}


def _part(value: str | None, name: str) -> Part:
    if value is None:
        return b""
    if value.startswith(_TEXT):
        return value[len(_TEXT):]
    path = Path(value)
    if not path.exists():
        raise InvalidInputError(f"--{name} {value!r}: no file or directory there (use "
                                f"text:VALUE for literal text)")
    return path


def _version(args: argparse.Namespace) -> Version:
    parts = [args.major, args.minor, args.patch]
    if args.version is not None:
        if any(part is not None for part in parts) or args.created is not None:
            raise InvalidInputError("use either --version or --major/--minor/--patch/--created")
        return Version.parse(args.version)
    created = None
    if args.created is not None:
        try:
            created = datetime.fromisoformat(args.created)
        except ValueError:
            raise InvalidInputError(
                f"--created {args.created!r} is not an ISO 8601 date and time") from None
    return build_version(_part(args.major, "major"), _part(args.minor, "minor"),
                         _part(args.patch, "patch"), creation_time=created)


def run(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    version = _version(args)
    if args.file is not None and not Path(args.file).is_file():
        raise InvalidInputError(f"--file {args.file!r}: no file there")
    record = store.register_version(args.op, version, idempotency_key=args.idempotency_key,
                                    metadata=_metadata(args))
    result = record_json(record)
    if args.file is not None:
        saved = store.save_op_bytes(args.op, record.version, Path(args.file),
                                    idempotency_key=args.idempotency_key)
        result["bytes"] = {"sha256": saved.sha256, "size": saved.size, "key": saved.key}
    if args.alias is not None:
        entry = store.set_alias(args.op, args.alias, record.version,
                                idempotency_key=args.idempotency_key)
        result["alias"] = {"alias": entry.alias, "seq": entry.seq}
    if out.json_mode:
        out.json(result)
        return 0
    out.line(f"registered {args.op} {record.number_text} {record.version}")
    if args.file is not None:
        out.line(f"saved {args.file} ({result['bytes']['size']} bytes, sha256 "
                 f"{result['bytes']['sha256']})")
    if args.alias is not None:
        out.line(f"{args.op}@{args.alias} -> {record.number_text}")
    return 0
