"""fsck's report: problems (each naming its key), notes and counts; frozen once built.

While the checks run they add to :class:`Findings`; ``fsck`` freezes it into
the :class:`FsckReport` it returns, whose JSON is ``model_dump``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import computed_field

from s3opstore.models.report import Report

__all__ = ["Findings", "FsckReport", "Problem"]


class Problem(Report):
    """One inconsistency: the key it is about, a stable kind, and what is wrong."""

    key: str
    kind: str
    message: str


class FsckReport(Report):
    deep: bool
    counts: dict[str, int]
    problems: list[Problem]
    notes: list[str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Findings:
    """What the checks found so far; :meth:`report` freezes it."""

    deep: bool
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, kind: str, message: str) -> None:
        self.problems.append(Problem(key=key, kind=kind, message=message))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def report(self) -> FsckReport:
        return FsckReport(deep=self.deep, counts=dict(self.counts),
                          problems=list(self.problems), notes=list(self.notes))
