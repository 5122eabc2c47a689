"""The fault-matrix runner shared by the in-process and moto tests.

For one write path on one backend: run it fault-free once to learn its
request count N, the expected result and the expected logical state; then,
for every position 1..N and every fault kind, on a fresh store: set up, run
the action with that one fault, check it succeeded or raised a typed error,
retry it plainly (no faults), and check the retry's result, the logical
state (nothing lost or duplicated) and the stored invariants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s3opstore.errors import S3OpStoreError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.registry.context import forget_probes
from s3opstore.registry.opstore import OpStore
from s3opstore.testing.model import RegistryState, observe
from tests.reliability.invariants import check_invariants
from tests.reliability.paths import WritePath


@dataclass
class Cell:
    """One (backend, path, fault kind) row of the table."""

    backend: str
    path: str
    kind: str
    positions: int = 0
    runs: int = 0
    raised: int = 0
    retried_ok: int = 0
    failures: list[str] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {"backend": self.backend, "path": self.path, "kind": self.kind,
                "positions": self.positions, "runs": self.runs, "raised": self.raised,
                "retried_ok": self.retried_ok, "failures": len(self.failures),
                "error_kinds": self.error_kinds, "failure_samples": self.failures[:5]}


@dataclass
class Harness:
    """How to get a fresh store and drive faults on one backend.

    ``fresh()`` returns (the OpStore the action runs on, an OpStore on the same
    data without faults). ``arm(position, kind)`` schedules one fault,
    ``disarm()`` removes it and ``count()`` is the requests made since the last
    arm/disarm; ``fired()`` tells whether the scheduled fault happened.
    """

    name: str
    fresh: Callable[[], tuple[OpStore, OpStore]]
    arm: Callable[[int, str], None]
    disarm: Callable[[], None]
    count: Callable[[], int]
    fired: Callable[[], bool]
    kinds: tuple[str, ...]


def _state(store: OpStore) -> tuple[RegistryState, list[str]]:
    """The logical state, plus every blob key (gc must delete exactly the leftovers)."""
    blobs = sorted(i.key for i in store.store.list("ops/") if "/blobs/" in i.key)
    return observe(store), blobs


def _differences(expected: tuple[RegistryState, list[str]],
                 actual: tuple[RegistryState, list[str]]) -> list[str]:
    out = expected[0].diff(actual[0])
    if expected[1] != actual[1]:
        out.append(f"blobs {expected[1]} != {actual[1]}")
    return out


def check_stored(store: OpStore, *, failed: bool = False) -> list[str]:
    """Problems found by the tests' own checker and by ``fsck --deep``.

    ``failed``: a call raised. Its write may have landed without its event (design.md,
    D16: the event follows the write, and a plain retry finds the work done and logs
    nothing); ``fsck --repair`` must then log exactly those writes. A call that returned
    gets no such allowance: its event must be there.
    """
    problems = list(check_invariants(store.store).problems)
    if failed:
        repair_history(store.store)
    report = fsck(store, deep=True)
    problems += [f"fsck: {p.kind} {p.key}: {p.message}" for p in report.problems]
    return problems


def run_path(h: Harness, path: WritePath, idempotency_key: str | None) -> list[Cell]:
    forget_probes()
    faulty, clean = h.fresh()
    path.setup(clean)
    h.disarm()
    summary = path.summarize
    expected_result = summary(path.action(faulty, idempotency_key))
    n = h.count()
    expected_state = _state(clean)
    problems = check_stored(clean)
    assert not problems, problems
    label = path.name + (" (keyed)" if idempotency_key else "")
    cells = []
    for kind in h.kinds:
        cell = Cell(h.name, label, kind, positions=n)
        cells.append(cell)
        for position in range(1, n + 1):
            cell.runs += 1
            forget_probes()
            faulty, clean = h.fresh()
            path.setup(clean)
            h.arm(position, kind)
            where = f"position {position}/{n}"
            try:
                first = summary(path.action(faulty, idempotency_key))
            except S3OpStoreError as exc:
                cell.raised += 1
                cell.error_kinds[exc.kind] = cell.error_kinds.get(exc.kind, 0) + 1
                first = None
            except Exception as exc:  # an untyped error leaked: that is a failure
                cell.failures.append(f"{where}: untyped {type(exc).__name__}: {exc}")
                first = None
            if not h.fired():
                cell.failures.append(f"{where}: the fault was never injected")
            h.disarm()
            if first is not None and first != expected_result:
                cell.failures.append(f"{where}: result {first} != {expected_result}")
            try:
                again = summary(path.action(faulty, idempotency_key))
            except Exception as exc:
                cell.failures.append(f"{where}: plain retry raised {type(exc).__name__}: {exc}")
                continue
            if again != expected_result:
                cell.failures.append(f"{where}: retry result {again} != {expected_result}")
                continue
            diff = _differences(expected_state, _state(clean))
            if diff:
                cell.failures.append(f"{where}: state differs: {diff[:3]}")
                continue
            problems = check_stored(clean, failed=first is None)
            if problems:
                cell.failures.append(f"{where}: invariants: {problems[:3]}")
                continue
            cell.retried_ok += 1
    return cells
