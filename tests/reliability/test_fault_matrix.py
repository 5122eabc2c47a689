"""Every write path x every fault kind x every request position (in process).

See ``tests/reliability/matrix.py`` for what one run checks. The table of
results goes to the figures directory (``tests/reliability/figures.py``) and
into docs/reliability.md.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s3opstore.registry.opstore import OpStore
from s3opstore.stores import LocalStore, MemoryStore, ObjectStore
from s3opstore.testing.faults import FAULT_KINDS, FaultInjector, at_position, at_positions
from tests.reliability import figures
from tests.reliability.matrix import Cell, Harness, run_path
from tests.reliability.paths import MAINTENANCE_PATHS, PATHS

# A lost response whose read-back fails too: the only way to an OutcomeUnknownError.
KINDS = (*FAULT_KINDS, "ambiguous+unreadable")

_RESULTS: dict[str, list[Cell]] = {}


def _injector_harness(name: str, make: Any) -> Harness:
    box: dict[str, FaultInjector] = {}

    def fresh() -> tuple[OpStore, OpStore]:
        inner: ObjectStore = make()
        box["f"] = FaultInjector(inner)
        return OpStore(box["f"]), OpStore(inner)

    def arm(position: int, kind: str) -> None:
        if kind == "ambiguous+unreadable":
            plan = at_positions({position: "ambiguous", position + 1: "unavailable"})
        else:
            plan = at_position(position, kind)
        box["f"].reset(plan)

    return Harness(name, fresh, arm, lambda: box["f"].reset(), lambda: len(box["f"].calls),
                   lambda: bool(box["f"].injected), KINDS)


@pytest.fixture
def store_root(tmp_path: Path) -> Iterator[Path]:
    """Hundreds of small local stores: on tmpfs when there is one (fsync is not under test)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    root = Path(tempfile.mkdtemp(dir=shm, prefix="s3opstore-matrix-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    yield
    for backend, cells in _RESULTS.items():
        figures.record(f"matrix-{backend}", {"rows": [c.row() for c in cells]})


# gc and import take no idempotency key.
CASES = [pytest.param(path, keyed, id=f"{path.name}-{'keyed' if keyed else 'plain'}")
         for path in [*PATHS, *MAINTENANCE_PATHS] for keyed in (False, True)
         if not (keyed and path in MAINTENANCE_PATHS)]


@pytest.mark.parametrize(("path", "keyed"), CASES)
@pytest.mark.parametrize("backend", ["memory", "local"])
def test_fault_matrix(backend: str, path: Any, keyed: bool, store_root: Path) -> None:
    counter = iter(range(10**6))
    root = store_root
    make = MemoryStore if backend == "memory" else (
        lambda: LocalStore(root / f"s{next(counter)}"))
    harness = _injector_harness(backend, make)
    cells = run_path(harness, path, "idem-key-1" if keyed else None)
    _RESULTS.setdefault(backend, []).extend(cells)
    failures = [f"{c.kind}: {f}" for c in cells for f in c.failures]
    assert not failures, "\n".join(failures[:20])
    assert all(c.runs == c.positions > 0 for c in cells)
