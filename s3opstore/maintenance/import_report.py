"""What ``import_chariots`` did: a frozen report, its JSON from ``model_dump``.

The importer gathers its findings in a :class:`ImportTally` while it runs and
returns the :class:`ImportReport` made from it. The JSON groups the counts by
what they count (``versions``, ``bytes``, ``links``, ``pipelines``); the
Python attributes stay flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field, computed_field

from s3opstore.models.report import Report

__all__ = ["ImportReport", "ImportTally", "NotMigrated", "Renumbered", "WithoutBytes"]


class NotMigrated(Report):
    """A database row that could not be migrated, and why."""

    kind: str  # op | version | bytes | link | pipeline
    row: int | None
    message: str


class Renumbered(Report):
    """A version s3opstore numbers differently from Chariots."""

    op: str
    version: str
    chariots_number: str
    number: str


class WithoutBytes(Report):
    """A version Chariots registered but never saved bytes for (a data source, say)."""

    op: str
    version: str
    number: str


@dataclass
class ImportTally:
    """The import's findings while it runs; :meth:`report` freezes them."""

    ops: int = 0
    version_rows: int = 0
    versions_registered: int = 0
    versions_existing: int = 0
    bytes_bound: int = 0
    link_rows: int = 0
    links: int = 0
    duplicate_links: int = 0
    pipeline_rows: int = 0
    pipelines: int = 0
    duplicate_pipelines: int = 0
    renumbered: list[Renumbered] = field(default_factory=list)
    without_bytes: list[WithoutBytes] = field(default_factory=list)
    not_migrated: list[NotMigrated] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report(self) -> ImportReport:
        return ImportReport(**vars(self))


class ImportReport(Report):
    ops: int
    version_rows: int = Field(exclude=True)
    versions_registered: int = Field(exclude=True)
    versions_existing: int = Field(exclude=True)
    bytes_bound: int = Field(exclude=True)
    link_rows: int = Field(exclude=True)
    links: int = Field(exclude=True)
    duplicate_links: int = Field(exclude=True)
    pipeline_rows: int = Field(exclude=True)
    pipelines: int = Field(exclude=True)
    duplicate_pipelines: int = Field(exclude=True)
    renumbered: list[Renumbered]
    without_bytes: list[WithoutBytes]
    not_migrated: list[NotMigrated]
    notes: list[str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete(self) -> bool:
        return not self.not_migrated

    @computed_field(alias="versions")  # type: ignore[prop-decorator]
    @property
    def versions_json(self) -> dict[str, int]:
        return {"rows": self.version_rows, "registered": self.versions_registered,
                "existing": self.versions_existing}

    @computed_field(alias="bytes")  # type: ignore[prop-decorator]
    @property
    def bytes_json(self) -> dict[str, int]:
        return {"bound": self.bytes_bound, "never_saved": len(self.without_bytes)}

    @computed_field(alias="links")  # type: ignore[prop-decorator]
    @property
    def links_json(self) -> dict[str, int]:
        return {"rows": self.link_rows, "migrated": self.links,
                "duplicates_collapsed": self.duplicate_links}

    @computed_field(alias="pipelines")  # type: ignore[prop-decorator]
    @property
    def pipelines_json(self) -> dict[str, int]:
        return {"rows": self.pipeline_rows, "migrated": self.pipelines,
                "duplicates_collapsed": self.duplicate_pipelines}

    def lines(self) -> list[str]:
        out = [
            f"ops: {self.ops}",
            f"versions: {self.version_rows} rows, {self.versions_registered} registered now, "
            f"{self.versions_existing} already there",
            f"bytes: {self.bytes_bound} bound, {len(self.without_bytes)} versions without bytes "
            "(never saved in Chariots)",
            f"links: {self.link_rows} rows -> {self.links} links "
            f"({self.duplicate_links} duplicate rows collapsed)",
            f"pipelines: {self.pipeline_rows} rows -> {self.pipelines} pipelines "
            f"({self.duplicate_pipelines} duplicate rows collapsed)",
        ]
        if self.renumbered:
            out.append(f"{len(self.renumbered)} versions numbered differently from Chariots "
                       "(s3opstore numbers against the latest version, Chariots against the "
                       "first):")
            out += [f"  {r.op} {r.version}: chariots {r.chariots_number} -> {r.number}"
                    for r in self.renumbered]
        if self.without_bytes:
            out.append("versions without bytes (never saved in Chariots: data sources, input "
                       "nodes, nested pipelines; migrated as they are):")
            per_op: dict[str, list[str]] = {}
            for item in self.without_bytes:
                per_op.setdefault(item.op, []).append(item.number)
            out += [f"  {op}: {', '.join(numbers)}" for op, numbers in per_op.items()]
        for note in self.notes:
            out.append(f"note: {note}")
        if self.not_migrated:
            out.append(f"could not migrate {len(self.not_migrated)} items:")
            out += [f"  {n.kind} row {n.row}: {n.message}" for n in self.not_migrated]
        else:
            out.append("import complete: everything was migrated")
        return out
