"""SeaweedFS itself stopped and restarted in the middle of a workload.

A private SeaweedFS (not the session one) on its own data directory serves a
writer thread that keeps registering versions, linking them and saving
bytes, each with an idempotency key. The server is stopped (its data kept)
for a moment: during the outage calls fail with typed errors
(StorageUnavailableError, or OutcomeUnknownError when a write may have
landed); the writer keeps retrying the same call. The server is restarted on
the same directory (new ports, so the writer reopens the store at the new
endpoint), and afterwards every acknowledged operation is present, the
interrupted ones were completed exactly once, and fsck is clean.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from s3opstore.errors import OutcomeUnknownError, S3OpStoreError, StorageUnavailableError
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.registry.commit import RetryPolicy
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.servers import ACCESS_KEY, SECRET_KEY, SeaweedFS
from tests.reliability import figures
from tests.reliability.invariants import check_invariants
from tests.reliability.paths import v

BUCKET = "restart"
BEFORE, AFTER = 15, 15  # acknowledged operations before the outage, and after it


class Writer(threading.Thread):
    """Registers version i, links it, saves its bytes; retries a failed call as is."""

    def __init__(self, server: SeaweedFS) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.endpoint = ""
        self.store: OpStore | None = None
        self.acknowledged: list[tuple[int, int]] = []  # (i, seq)
        self.errors: Counter[str] = Counter()
        self.untyped: list[BaseException] = []
        self.stop_after: int | None = None
        self.lock = threading.Lock()

    def _store(self) -> OpStore:
        if self.store is None or self.endpoint != self.server.endpoint:
            self.endpoint = self.server.endpoint
            client = boto3.client(
                "s3", endpoint_url=self.endpoint, region_name="us-east-1",
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                config=Config(s3={"addressing_style": "path"}, connect_timeout=1,
                              read_timeout=3,
                              retries={"mode": "standard", "total_max_attempts": 2}))
            self.store = OpStore(S3Store(BUCKET, "reg", client=client),
                                 retry=RetryPolicy(max_attempts=5, base_delay=0.01))
        return self.store

    def _until_done(self, call: Any) -> Any:
        while True:
            try:
                return call(self._store())
            except S3OpStoreError as exc:
                self.errors[exc.kind] += 1
                if not isinstance(exc, StorageUnavailableError | OutcomeUnknownError):
                    self.untyped.append(exc)  # a storage outage must look like one
                time.sleep(0.1)
            except Exception as exc:
                self.untyped.append(exc)
                raise

    def run(self) -> None:
        i = 0
        while self.stop_after is None or len(self.acknowledged) < self.stop_after:
            version = v(f"restart-{i}", at=i)
            key = f"restart-{i}"
            record = self._until_done(
                lambda s, ver=version, k=key: s.register_version("op", ver, idempotency_key=k))
            self._until_done(lambda s, ver=version, k=key: s.register_valid_link(
                "down", "op", ver, idempotency_key=k))
            self._until_done(lambda s, ver=version, k=key, n=i: s.save_op_bytes(
                "op", ver, f"bytes {n}".encode(), idempotency_key=k))
            with self.lock:
                self.acknowledged.append((i, record.seq))
            i += 1


def _wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.seaweedfs
def test_server_restart_mid_workload(tmp_path: Path) -> None:
    (tmp_path / "weed").mkdir()
    server = SeaweedFS(str(tmp_path / "weed")).start()
    try:
        server.client().create_bucket(Bucket=BUCKET)
        writer = Writer(server)
        writer.start()
        _wait_for(lambda: len(writer.acknowledged) >= BEFORE, 60)
        server.stop(keep_data=True)
        outage_started = time.monotonic()
        acknowledged_at_stop = len(writer.acknowledged)
        _wait_for(lambda: sum(writer.errors.values()) >= 3, 60)
        outage_errors = sum(writer.errors.values())
        assert len(writer.acknowledged) <= acknowledged_at_stop + 1  # at most one in flight
        server.start()
        outage = time.monotonic() - outage_started
        writer.stop_after = len(writer.acknowledged) + AFTER
        writer.join(timeout=120)
        assert not writer.is_alive(), "the writer did not recover after the restart"
        assert not writer.untyped, writer.untyped[:3]

        store = OpStore(S3Store(BUCKET, "reg", client=server.client()))
        records = store.get_versions("op")
        assert [r.seq for r in records] == list(range(len(writer.acknowledged)))
        for i, seq in writer.acknowledged:
            version = v(f"restart-{i}", at=i)
            assert records[seq].version == version
            assert version in store.get_validated_links("down", "op")
            assert store.load_op_bytes("op", version) == f"bytes {i}".encode()
        assert check_invariants(store.store).clean
        repair_history(store.store)  # calls that failed in the outage may be unlogged (D16)
        assert fsck(store, deep=True).ok
    except BaseException:
        print(server.log_tail())
        raise
    finally:
        server.stop()
    figures.record("server-restart", {
        "acknowledged_ops": 3 * len(writer.acknowledged),
        "typed_errors_during_outage": outage_errors, "outage_seconds": round(outage, 1),
        "error_kinds": dict(writer.errors), "losses": 0, "duplicates": 0})
