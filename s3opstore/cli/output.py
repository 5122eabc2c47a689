"""Printing for the CLI: tables for people, JSON for scripts, progress on a TTY.

``rich`` is imported lazily and is optional: when it is missing (or
``S3OPSTORE_PLAIN=1``) tables are plain aligned text. Progress bars go to
stderr and only when stderr is a terminal; everything else is written to the
``sys.stdout`` / ``sys.stderr`` of the moment (so captured output works).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

__all__ = ["Output", "Progress", "have_rich", "short_version"]


def short_version(version: object) -> str:
    """A version for tables: 8 characters of each hash and the creation time.

    The full string (what Chariots clients use) is in every ``--json`` output.
    """
    text = str(version)
    hashes, sep, moment = text.partition("_")
    parts = hashes.split(".")
    if not sep or len(parts) != 3:
        return text
    return ".".join(part[:8] for part in parts) + "_" + moment


def have_rich() -> bool:
    if os.environ.get("S3OPSTORE_PLAIN"):
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


@functools.cache
def _quiet_console_class() -> Any:
    from rich.console import Console

    class QuietConsole(Console):
        """A closed pipe is the CLI's to handle (exit 0), not rich's ``SystemExit(1)``."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return QuietConsole


class Progress:
    """A progress handle; a no-op unless a rich bar is attached."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def update(self, *, completed: int | None = None, advance: int | None = None,
               description: str | None = None, total: int | None = None) -> None:
        if self._bar is None:
            return
        kwargs: dict[str, Any] = {}
        if completed is not None:
            kwargs["completed"] = completed
        if advance is not None:
            kwargs["advance"] = advance
        if description is not None:
            kwargs["description"] = description
        if total is not None:
            kwargs["total"] = total
        self._bar.update(self._task, **kwargs)


class Output:
    """Where a command's results go: ``json_mode`` selects machine output."""

    def __init__(self, *, json_mode: bool = False, verbose: bool = False) -> None:
        self.json_mode = json_mode
        self.verbose = verbose
        self.rich = have_rich()

    # -- machine output --------------------------------------------------------
    def json(self, value: Any) -> None:
        sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
        sys.stdout.flush()

    # -- human output ------------------------------------------------------------
    def line(self, text: str = "") -> None:
        """A line for people (suppressed in JSON mode, where stdout is data)."""
        if self.json_mode:
            return
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A side remark on stderr (always shown; never mixes with JSON on stdout)."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def table(self, title: str | None, columns: Sequence[str],
              rows: Sequence[Sequence[object]]) -> None:
        if self.json_mode:
            return
        cells = [[_cell(value) for value in row] for row in rows]
        if self.rich:
            from rich.table import Table

            table = Table(title=title, title_justify="left")
            for column in columns:
                table.add_column(column, overflow="fold")
            for row in cells:
                table.add_row(*row)
            # Not a terminal: no wrapping at 80 columns, so pipes and greps see whole cells.
            width = None if sys.stdout.isatty() else 250
            _quiet_console_class()(file=sys.stdout, width=width).print(table)
            return
        widths = [max([len(column)] + [len(row[i]) for row in cells])
                  for i, column in enumerate(columns)]
        if title:
            self.line(title)
        self.line("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        self.line("  ".join("-" * w for w in widths))
        for row in cells:
            self.line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    # -- progress --------------------------------------------------------------------
    def progress_enabled(self) -> bool:
        return self.rich and sys.stderr.isatty()

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None, *,
                 transfer: bool = False) -> Iterator[Progress]:
        """A rich progress bar on stderr when it is a terminal, else a no-op handle."""
        if not self.progress_enabled():
            yield Progress()
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        columns: list[Any] = [TextColumn("{task.description}"), BarColumn()]
        if transfer:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        else:
            columns += [MofNCompleteColumn()]
        columns.append(TimeRemainingColumn())
        with RichProgress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield Progress(bar, task)
