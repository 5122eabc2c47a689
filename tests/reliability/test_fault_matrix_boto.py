"""The fault matrix below botocore, on moto's in-process S3 (through ``S3Store``).

Faults are injected into the HTTP requests themselves (``BotoFaults``), so
botocore's own retries run as they would on a real network: a 503 SlowDown
and a reset connection are usually absorbed; a read timeout after the server
applied a create-only PUT is retried by botocore into a 412 for our own write
(the trap in design-notes.md); 409 and 412 reach the registry. Run once with
the SDK's retries (standard mode, 3 attempts) and once without (1 attempt),
where every fault reaches the registry's commit helper.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from s3opstore.errors import ConflictError, OutcomeUnknownError, StorageUnavailableError
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.faults import BOTO_FAULT_KINDS, BotoFaults
from tests.reliability import figures
from tests.reliability.matrix import Cell, Harness, run_path
from tests.reliability.paths import PATHS

_RESULTS: list[Cell] = []

# CI runs one path of each family; S3OPSTORE_CHAOS_SCALE=full runs every path.
CI_PATHS = {"register_version:new", "register_valid_link:new-upstream", "save_op_bytes:new-blob",
            "register_pipeline:new", "set_alias:move"}
FULL = os.environ.get("S3OPSTORE_CHAOS_SCALE") == "full"
CHOSEN = [p for p in PATHS if FULL or p.name in CI_PATHS]


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    yield
    if _RESULTS:
        figures.record("matrix-moto", {"rows": [c.row() for c in _RESULTS],
                                       "scale": "full" if FULL else "ci"})


def _harness(moto_client: Any, attempts: int) -> Harness:
    faulty_client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}))
    faults = BotoFaults(faulty_client)
    armed: dict[str, int] = {}

    def fresh() -> tuple[OpStore, OpStore]:
        prefix = f"m/{uuid.uuid4().hex[:10]}"
        return (OpStore(S3Store("mock-bucket", prefix, client=faulty_client)),
                OpStore(S3Store("mock-bucket", prefix, client=moto_client)))

    def arm(position: int, kind: str) -> None:
        armed["at"] = position
        faults.reset(lambda pos, op: kind if pos == position else None)

    return Harness(f"moto, sdk attempts={attempts}", fresh, arm, lambda: faults.reset(),
                   lambda: len(faults.requests), lambda: bool(faults.injected),
                   BOTO_FAULT_KINDS)


@pytest.mark.slow
@pytest.mark.parametrize("attempts", [1, 3], ids=["no-sdk-retry", "sdk-retry"])
@pytest.mark.parametrize("path", CHOSEN, ids=[p.name for p in CHOSEN])
def test_fault_matrix_below_botocore(moto_client: Any, path: Any, attempts: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore's retries keep their logic; only their backoff sleep is removed.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    cells = run_path(_harness(moto_client, attempts), path, None)
    _RESULTS.extend(cells)
    failures = [f"{c.kind}: {f}" for c in cells for f in c.failures]
    assert not failures, "\n".join(failures[:20])


def test_lost_probe_response_is_not_reported_as_a_conflict(
        moto_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    # Requests: 0 reads the store's format (design.md, D13), 1 the pipeline, 2 is the
    # probe's first create.
    faults = BotoFaults(client, lambda pos, op: "timeout_after_apply" if pos == 2 else None)
    store = OpStore(S3Store("mock-bucket", f"m/{uuid.uuid4().hex[:10]}", client=client))
    try:
        store.register_pipeline("pipe", "last")
    except ConflictError as exc:
        pytest.fail(f"a lost response became a conflict: {exc!r}")
    except (StorageUnavailableError, OutcomeUnknownError):
        pass  # honest: the store was unreachable
    assert faults.injected and faults.injected[0][1] == "PutObject"
