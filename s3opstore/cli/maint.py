"""``gc``, ``fsck`` and ``import-chariots``: thin CLI faces of :mod:`s3opstore.maintenance`."""

from __future__ import annotations

import argparse

from s3opstore.cli.output import Output
from s3opstore.registry.opstore import OpStore

__all__ = ["fsck", "gc", "import_chariots"]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def gc(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    from s3opstore.maintenance.gc import collect_garbage

    with out.progress("scanning ops") as bar:
        report = collect_garbage(store, grace_hours=args.grace, dry_run=args.dry_run,
                                 progress=lambda done, total: bar.update(completed=done,
                                                                         total=total))
    if out.json_mode:
        out.json(report.to_json())
    else:
        verb = "would delete" if report.dry_run else "deleted"
        for item in report.deleted:
            out.line(f"{verb} {item.key} ({_size(item.size)}, {item.reason})")
        for item in report.kept:
            out.line(f"kept {item.key}: {item.reason}")
        for moved in report.alias_heads_moved:
            out.line(f"{'would roll' if report.dry_run else 'rolled'} alias head {moved} "
                     "forward (its mover died before moving it)")
        out.line(f"{verb} {len(report.deleted)} objects, {_size(report.deleted_bytes)} in total "
                 f"(grace {args.grace:g} h on the store's clock, now {report.now.isoformat()}); "
                 f"{report.referenced_blobs} referenced blobs kept, "
                 f"{report.young} unreferenced objects younger than the grace kept")
    for warning in report.warnings:
        out.note(f"warning: {warning}")
    return 0


def fsck(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    from s3opstore.maintenance.fsck import fsck as run_fsck

    if args.repair:  # the history first (D16): appends, never edits
        from s3opstore.maintenance.fsck_log import repair_history

        for event in repair_history(store.store):
            out.note(f"recovered: {event.action} {event.manifest_key}")
    with out.progress("checking") as bar:
        report = run_fsck(store, deep=args.deep,
                          progress=lambda done, total: bar.update(completed=done, total=total))
    if out.json_mode:
        out.json(report.to_json())
    else:
        for problem in report.problems:
            out.line(f"PROBLEM {problem.key}: {problem.message}")
        counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
        state = "clean" if report.ok else f"{len(report.problems)} problems"
        out.line(f"fsck {'--deep ' if args.deep else ''}{store.url}: {state} ({counts})")
    for note in report.notes:
        out.note(f"note: {note}")
    return 0 if report.ok else 1


def import_chariots(store: OpStore, args: argparse.Namespace, out: Output) -> int:
    from s3opstore.maintenance.import_chariots import import_chariots as run_import

    with out.progress("importing") as bar:
        report = run_import(store, args.db, args.ops_dir,
                            progress=lambda done, total, what: bar.update(
                                completed=done, total=total, description=what))
    if out.json_mode:
        out.json(report.to_json())
    else:
        for line in report.lines():
            out.line(line)
    return 0 if report.complete else 1
