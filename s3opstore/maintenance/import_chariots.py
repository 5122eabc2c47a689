"""Migrate a Chariots OpStore (SQL database + FileSaver directory) into a store.

Source: the seed's tables ``db_op(id, op_name)``, ``db_version(id, op_id,
version_time, major_hash, major_version_number, minor_hash,
minor_version_number, patch_hash, patch_version_number)``,
``db_validated_link(id, upstream_op_id, downstream_op_id,
upstream_op_version_id)``, ``db_pipeline(id, pipeline_name, last_op_id)``,
read with the standard library's ``sqlite3`` (``sqlite:///path`` URLs), and
the files ``<ops-dir>/models/<op_name>/<version string>``.

What is kept: the hashes and creation times (so every version string is
byte for byte what Chariots clients knew), the registration order (versions
are registered in ``db_version.id`` order), the bytes, the links and the
pipelines. Version NUMBERS are recomputed by s3opstore's rule (against the
op's latest version); the seed numbered against the op's first version, so
they can differ: every version whose number changed is listed in the report
with both numbers. (Keeping the seed's numbers would need a core hook to
register a version with a given number.)

Idempotent and resumable: every write goes through ``OpStore`` (idempotent
by itself) with an idempotency key derived from the database row id and the
row's content, so re-running after an interruption finishes the job
without duplicates. Duplicate link rows (the seed creates them) collapse to
one link; rows that cannot be migrated are reported, never guessed.

A version without a file is not a failure: Chariots never saves the ops of
data sources, input nodes or nested pipelines (their versions and links are
registered, their bytes never), so such versions are migrated as they are
and listed under ``without_bytes``. Names are migrated as they are (any
text but control characters); files are only read below ``<ops-dir>/models``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from s3opstore.errors import AlreadyExistsError, InvalidInputError, S3OpStoreError
from s3opstore.maintenance.import_report import (
    ImportReport,
    ImportTally,
    NotMigrated,
    Renumbered,
    WithoutBytes,
)
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

__all__ = ["ImportReport", "NotMigrated", "Renumbered", "WithoutBytes", "import_chariots",
           "sqlite_path"]

ProgressFn = Callable[[int, int, str], None]


def sqlite_path(db_url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    parsed = urlparse(db_url)
    if parsed.scheme != "sqlite":
        scheme = parsed.scheme or db_url
        raise InvalidInputError(
            f"cannot read database URL {db_url!r}: only sqlite:///path URLs are read (with the "
            f"standard library), not {scheme!r}; copy the Chariots tables into SQLite first")
    path = unquote(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else ""
    if not path or path == ":memory:":
        raise InvalidInputError(f"database URL {db_url!r} names no database file")
    if not Path(path).is_file():
        raise InvalidInputError(f"no database file at {path!r} (from {db_url!r})")
    return Path(path)


def _rows(db: sqlite3.Connection, table: str, columns: str) -> list[sqlite3.Row]:
    try:
        return list(db.execute(f"SELECT {columns} FROM {table} ORDER BY id"))  # noqa: S608
    except sqlite3.Error as exc:
        raise InvalidInputError(
            f"the database has no readable Chariots table {table} ({exc})") from exc


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"version_time {value!r} is not a date and time")
    moment = datetime.fromisoformat(value.strip())
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def _key(kind: str, row: int, *parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return f"chariots-import:{kind}{row}:{digest}"


def _saver_path(ops_dir: Path, op: str) -> Path:
    """The FileSaver folder of an op: ``os.path.join(root, "models/<op>")``, as Chariots
    builds it; refused (InvalidInputError) when the name would lead outside ``models``."""
    models = os.path.normpath(os.path.join(ops_dir.resolve(), "models"))
    folder = os.path.normpath(os.path.join(models, op.lstrip("/")))
    if os.path.commonpath([models, folder]) != models or folder == models:
        raise InvalidInputError(f"the files of op {op!r} would be outside {models!r}: not read")
    return Path(folder)


def _bytes_file(ops_dir: Path, op: str, version: Version) -> Path | None:
    """The FileSaver file of a version; tolerant of another spelling of its time."""
    folder = _saver_path(ops_dir, op)
    exact = folder / str(version)
    if exact.is_file():
        return exact
    if folder.is_dir():
        matches = sorted(p for p in folder.iterdir()
                         if p.is_file() and p.name.startswith(version.vid + "_"))
        if len(matches) == 1:
            return matches[0]
    return None


def import_chariots(opstore: OpStore, db_url: str, ops_dir: str | os.PathLike[str], *,
                    progress: ProgressFn | None = None) -> ImportReport:
    """Migrate one Chariots OpStore; safe to re-run (resumes, never duplicates)."""
    path = sqlite_path(db_url)
    root = Path(ops_dir)
    if not root.is_dir():
        raise InvalidInputError(f"ops directory {str(root)!r} does not exist")
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        ops_rows = _rows(db, "db_op", "id, op_name")
        version_rows = _rows(db, "db_version", "id, op_id, version_time, major_hash, "
                             "major_version_number, minor_hash, minor_version_number, "
                             "patch_hash, patch_version_number")
        link_rows = _rows(db, "db_validated_link",
                          "id, upstream_op_id, downstream_op_id, upstream_op_version_id")
        pipeline_rows = _rows(db, "db_pipeline", "id, pipeline_name, last_op_id")
    finally:
        db.close()
    return _Importer(opstore, root, progress).run(ops_rows, version_rows, link_rows,
                                                  pipeline_rows)


class _Importer:
    def __init__(self, store: OpStore, root: Path, progress: ProgressFn | None) -> None:
        self.store = store
        self.root = root
        self.progress = progress
        self.report = ImportTally()
        self.ops: dict[int, str] = {}
        self.versions: dict[int, tuple[str, Version]] = {}
        self.known: dict[str, set[str]] = {}
        self.done = 0
        self.total = 0

    def skip(self, kind: str, row: int | None, message: str) -> None:
        self.report.not_migrated.append(NotMigrated(kind=kind, row=row, message=message))

    def tick(self, what: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total, what)

    def run(self, ops_rows: list[sqlite3.Row], version_rows: list[sqlite3.Row],
            link_rows: list[sqlite3.Row], pipeline_rows: list[sqlite3.Row]) -> ImportReport:
        report = self.report
        self.total = len(version_rows) + len(link_rows) + len(pipeline_rows)
        names_seen: dict[str, int] = {}
        for row in ops_rows:
            try:
                name = check_name(row["op_name"])
            except S3OpStoreError as exc:
                self.skip("op", row["id"], exc.message)
                continue
            if name in names_seen:
                report.notes.append(f"op rows {names_seen[name]} and {row['id']} share the name "
                                    f"{name!r} (a seed race); merged into one op")
            names_seen.setdefault(name, row["id"])
            self.ops[row["id"]] = name
        report.ops = len(set(self.ops.values()))
        used: set[str] = set()
        report.version_rows = len(version_rows)
        for row in version_rows:
            self.version(row)
            self.tick("versions")
        report.link_rows = len(link_rows)
        seen_links: set[tuple[int, int, int]] = set()
        for row in link_rows:
            triple = (row["upstream_op_id"], row["downstream_op_id"],
                      row["upstream_op_version_id"])
            if triple in seen_links:
                report.duplicate_links += 1
            else:
                seen_links.add(triple)
                if self.link(row):
                    used.update(self.ops.get(i, "") for i in triple[:2])
            self.tick("links")
        report.pipeline_rows = len(pipeline_rows)
        pipelines_seen: set[tuple[str, int]] = set()
        for row in pipeline_rows:
            if (row["pipeline_name"], row["last_op_id"]) in pipelines_seen:
                report.duplicate_pipelines += 1
            else:
                pipelines_seen.add((row["pipeline_name"], row["last_op_id"]))
                if self.pipeline(row):
                    used.add(self.ops.get(row["last_op_id"], ""))
            self.tick("pipelines")
        with_versions = {op for op, _ in self.versions.values()}
        for name in sorted(set(self.ops.values()) - with_versions - used):
            report.notes.append(f"op {name!r} has no versions, links or pipelines: "
                                "nothing to migrate")
        return report.report()

    def version(self, row: sqlite3.Row) -> None:
        op = self.ops.get(row["op_id"])
        if op is None:
            self.skip("version", row["id"], f"its op id {row['op_id']} is not a migrated op")
            return
        try:
            version = Version(row["major_hash"], row["minor_hash"], row["patch_hash"],
                              _moment(row["version_time"]))
        except (ValueError, S3OpStoreError) as exc:
            self.skip("version", row["id"], f"unreadable version of op {op!r}: {exc}")
            return
        if op not in self.known:  # one listing per op tells new from already migrated
            self.known[op] = {r.version.vid for r in self.store.get_versions(op)}
        record = self.store.register_version(
            op, version, idempotency_key=_key("v", row["id"], op, version.vid))
        self.versions[row["id"]] = (op, record.version)
        if version.vid in self.known[op]:
            self.report.versions_existing += 1
        else:
            self.known[op].add(version.vid)
            self.report.versions_registered += 1
        seed = (row["major_version_number"], row["minor_version_number"],
                row["patch_version_number"])
        if tuple(seed) != record.number:
            self.report.renumbered.append(Renumbered(
                op=op, version=str(record.version), chariots_number="{}.{}.{}".format(*seed),
                number=record.number_text))
        try:
            source = _bytes_file(self.root, op, version)
        except InvalidInputError as exc:
            self.skip("bytes", row["id"], f"{exc.message} (the version itself was migrated)")
            return
        if source is None:
            self.report.without_bytes.append(
                WithoutBytes(op=op, version=str(record.version), number=record.number_text))
            return
        self.store.save_op_bytes(op, record.version, source,
                                 idempotency_key=_key("b", row["id"], op, version.vid))
        self.report.bytes_bound += 1

    def link(self, row: sqlite3.Row) -> bool:
        upstream = self.ops.get(row["upstream_op_id"])
        downstream = self.ops.get(row["downstream_op_id"])
        target = self.versions.get(row["upstream_op_version_id"])
        if upstream is None or downstream is None:
            self.skip("link", row["id"], f"op id {row['upstream_op_id']} or "
                      f"{row['downstream_op_id']} is not a migrated op")
            return False
        if target is None:
            self.skip("link", row["id"], f"links version id {row['upstream_op_version_id']} "
                      f"of op {upstream!r}, which is missing or was not migrated")
            return False
        if target[0] != upstream:
            self.skip("link", row["id"], f"version id {row['upstream_op_version_id']} belongs "
                      f"to op {target[0]!r}, not to the upstream op {upstream!r}")
            return False
        self.store.register_valid_link(
            downstream, upstream, target[1],
            idempotency_key=_key("l", row["id"], downstream, upstream, target[1].vid))
        self.report.links += 1
        return True

    def pipeline(self, row: sqlite3.Row) -> bool:
        last_op = self.ops.get(row["last_op_id"])
        name = row["pipeline_name"]
        if last_op is None:
            self.skip("pipeline", row["id"], f"last op id {row['last_op_id']} of pipeline "
                      f"{name!r} is not a migrated op")
            return False
        try:
            self.store.register_pipeline(check_name(name, "pipeline name"), last_op,
                                         idempotency_key=_key("p", row["id"], name, last_op))
        except AlreadyExistsError as exc:
            self.skip("pipeline", row["id"], exc.message)
            return False
        except S3OpStoreError as exc:
            if exc.kind != "invalid_name":
                raise
            self.skip("pipeline", row["id"], exc.message)
            return False
        self.report.pipelines += 1
        return True
