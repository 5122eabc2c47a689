"""A long mixed workload with ~10% of requests failing, against a model of the registry.

Hypothesis drives a random sequence of registry calls (versions, links,
pipelines, bytes, aliases) through a :class:`FaultInjector` that fails about
one request in ten with a random fault kind. When a call raises a typed error
it is retried, bounded, without faults (as a caller would after a transient
failure), with the same idempotency key if it had one. The same call is
applied to :class:`RegistryModel`; outcomes must agree, and after every step
the store's logical state equals the model's and the stored invariants hold.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from s3opstore.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    S3OpStoreError,
)
from s3opstore.maintenance.fsck import fsck
from s3opstore.maintenance.fsck_log import repair_history
from s3opstore.models.version import Version
from s3opstore.registry.commit import RetryPolicy
from s3opstore.registry.context import forget_probes
from s3opstore.registry.opstore import OpStore
from s3opstore.stores import MemoryStore
from s3opstore.testing.faults import FaultInjector, no_faults, random_faults
from s3opstore.testing.model import RegistryModel, observe
from tests.reliability import figures
from tests.reliability.invariants import check_invariants

T0 = datetime(2024, 3, 1, 9, 0, 0)
OPS = ["alpha", "beta", "gamma"]
DOWNSTREAMS = ["alpha", "delta", None]
PAYLOADS = [b"", b"weights-1", b"weights-2", b"x" * 3000]
FAULT_RATE = 0.10
MAX_RETRIES = 3

STATS: Counter[str] = Counter()


def version(i: int, j: int, k: int) -> Version:
    return Version.from_parts(f"M{i}", f"m{j}", f"p{k}",
                              creation_time=T0 + timedelta(seconds=100 * i + 10 * j + k))


versions = st.builds(version, st.integers(0, 2), st.integers(0, 1), st.integers(0, 1))
ops = st.sampled_from(OPS)


class RegistryUnderFaults(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        forget_probes()
        self.inner = MemoryStore()
        self.faults = FaultInjector(self.inner)
        fast = RetryPolicy(max_attempts=40, base_delay=0.0001, max_delay=0.001)
        self.store = OpStore(self.faults, retry=fast)
        self.clean = OpStore(self.inner, retry=fast)
        self.model = RegistryModel()
        self.calls = 0

    @initialize(seed=st.integers(0, 2**32 - 1))
    def arm(self, seed: int) -> None:
        self.plan = random_faults(FAULT_RATE, seed)
        self.faults.reset(self.plan)

    # -- driving both sides ----------------------------------------------------
    def _store_call(self, call: Callable[[OpStore], Any]) -> tuple[Any, S3OpStoreError | None]:
        """Run under faults; on a typed error retry without faults (bounded)."""
        self.calls += 1
        before = len(self.faults.injected)
        error: S3OpStoreError | None = None
        try:
            return call(self.store), None
        except S3OpStoreError as exc:
            error = exc
            faulted = len(self.faults.injected) > before
            STATS[f"{'faulted' if faulted else 'refused'} call raised {exc.kind}"] += 1
        finally:
            STATS["faults_injected"] += len(self.faults.injected) - before
            STATS["calls"] += 1
        self.faults.plan = no_faults
        try:
            for _ in range(MAX_RETRIES):
                STATS["retries"] += 1
                try:
                    return call(self.store), None
                except (ConflictError, NotFoundError) as exc:  # semantic: the model decides
                    error = exc
                    break
        finally:
            self.faults.plan = self.plan
        return None, error

    @staticmethod
    def _model_call(call: Callable[[], Any]) -> tuple[Any, S3OpStoreError | None]:
        try:
            return call(), None
        except S3OpStoreError as exc:
            return None, exc

    def _agree(self, store_side: tuple[Any, S3OpStoreError | None],
               model_side: tuple[Any, S3OpStoreError | None]) -> None:
        (_, store_error), (_, model_error) = store_side, model_side
        if model_error is None:
            assert store_error is None, f"the store failed where the model did not: {store_error!r}"
        else:
            assert store_error is not None, f"the store accepted what the model refused: " \
                                            f"{model_error!r}"
            families = (AlreadyExistsError, ConflictError, NotFoundError)
            expected = next(f for f in families if isinstance(model_error, f))
            assert isinstance(store_error, expected), (store_error, model_error)

    # -- rules -------------------------------------------------------------------
    @rule(op=ops, v=versions, keyed=st.booleans())
    def register_version(self, op: str, v: Version, keyed: bool) -> None:
        key = f"rv-{self.calls}" if keyed else None
        got = self._store_call(lambda s: s.register_version(op, v, idempotency_key=key))
        want = self._model_call(lambda: self.model.register_version(op, v))
        self._agree(got, want)
        assert got[0].number == want[0]

    @rule(down=st.sampled_from(DOWNSTREAMS), up=ops, v=versions, keyed=st.booleans())
    def register_valid_link(self, down: str | None, up: str, v: Version, keyed: bool) -> None:
        key = f"rl-{self.calls}" if keyed else None
        got = self._store_call(lambda s: s.register_valid_link(down, up, v, idempotency_key=key))
        want = self._model_call(lambda: self.model.register_valid_link(down, up, v))
        self._agree(got, want)
        assert got[0].number == want[0]

    @rule(op=ops, v=versions, data=st.sampled_from(PAYLOADS), keyed=st.booleans())
    def save_op_bytes(self, op: str, v: Version, data: bytes, keyed: bool) -> None:
        key = f"sb-{self.calls}" if keyed else None
        got = self._store_call(lambda s: s.save_op_bytes(op, v, data, idempotency_key=key))
        want = self._model_call(lambda: self.model.save_op_bytes(op, v, data))
        self._agree(got, want)
        if want[1] is None:
            assert got[0].sha256 == want[0]

    @rule(op=ops, v=versions)
    def load_op_bytes(self, op: str, v: Version) -> None:
        got = self._store_call(lambda s: s.load_op_bytes(op, v))
        newest = self.model.load_op_bytes_sha(op, v)
        if newest is None:
            assert isinstance(got[1], NotFoundError), got
        else:
            assert got[1] is None, got[1]
            assert hashlib.sha256(got[0]).hexdigest() == newest

    @rule(name=st.sampled_from(["p1", "p2"]), last=st.sampled_from([*OPS, "delta"]),
          keyed=st.booleans())
    def register_pipeline(self, name: str, last: str, keyed: bool) -> None:
        key = f"rp-{self.calls}" if keyed else None
        got = self._store_call(lambda s: s.register_pipeline(name, last, idempotency_key=key))
        want = self._model_call(lambda: self.model.register_pipeline(name, last))
        self._agree(got, want)

    @rule(op=ops, alias=st.sampled_from(["prod", "dev"]), v=versions,
          cas=st.booleans(), expected=st.none() | versions)
    def set_alias(self, op: str, alias: str, v: Version, cas: bool,
                  expected: Version | None) -> None:
        # A compare-and-swap is retried safely only with an idempotency key.
        key = f"sa-{self.calls}"
        if cas:
            got = self._store_call(lambda s: s.set_alias(op, alias, v, expected=expected,
                                                         idempotency_key=key))
            want = self._model_call(lambda: self.model.set_alias(
                op, alias, v, expected=None if expected is None else expected.vid))
        else:
            got = self._store_call(lambda s: s.set_alias(op, alias, v))
            want = self._model_call(lambda: self.model.set_alias(op, alias, v))
        self._agree(got, want)

    # -- invariants ---------------------------------------------------------------
    @invariant()
    def store_agrees_with_model(self) -> None:
        STATS["steps"] += 1
        diff = self.model.state.diff(observe(self.clean))
        assert not diff, diff
        report = check_invariants(self.inner)
        assert report.clean, report.problems


    def teardown(self) -> None:
        # Calls that raised may have left their write without its event (D16): --repair
        # logs those, and then everything is clean.
        repair_history(self.clean.store)
        report = fsck(self.clean, deep=True)
        assert report.ok, report.problems


RegistryUnderFaults.TestCase.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=False)


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    STATS.clear()
    yield
    figures.record("stateful", {"fault_rate": FAULT_RATE, **dict(STATS)})


@pytest.mark.slow
class TestRegistryUnderFaults(RegistryUnderFaults.TestCase):  # type: ignore[valid-type,misc]
    pass
