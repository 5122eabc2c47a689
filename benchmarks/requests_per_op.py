"""Scenario 1: S3 requests per public OpStore operation, uncontended, after the probe.

Counted through botocore's ``before-send`` event on the store's client (so
every HTTP attempt counts, retries included). Requests to blob keys are the
"transfer" part of the byte operations; the rest is metadata. Each case runs
``repeats`` times on fresh names; counts are deterministic, so min = max is
itself a check.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks._common import Bench, RequestCounter, Result, Table
from s3opstore import OpStore, Version
from s3opstore.models.codec import encode
from s3opstore.models.keys import link_key
from s3opstore.models.manifests import LinkManifest, utc_now_ms
from s3opstore.registry.context import forget_probes
from s3opstore.stores.s3 import S3Store

NAME = "requests"
TITLE = "1. Requests per operation"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _v(tag: str, i: int = 0) -> Version:
    return Version.from_parts(major=tag, patch=str(i) if i else "",
                              creation_time=_T0 + timedelta(seconds=i))


def _listing_budget(n: int) -> int:
    return math.ceil(n / 1000) + 2


def _seed_links(client: Any, bucket: str, prefix: str, down: str, up: str, n: int) -> None:
    """Write ``n`` link objects directly (exactly what register_valid_link writes)."""

    def put(i: int) -> None:
        version = Version.from_parts(major=f"seed-{i}", creation_time=_T0)
        manifest = LinkManifest(
            downstream_op_name=down, upstream_op_name=up, upstream_version=version,
            token=f"{i:032x}", registered_at=utc_now_ms(), registered_host="bench",
            registered_pid=1)
        client.put_object(Bucket=bucket, Key=f"{prefix}/{link_key(down, up, version)}",
                          Body=encode(manifest))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(n)))


def _cases(store: OpStore, tag: str, bench: Bench, client: Any, prefix: str,
           big_links: int) -> list[tuple[str, str, int | None, Callable[[], Any]]]:
    """(operation, budget text, budget, call) in order; state builds up as they run."""
    op, up, down, pipe = f"op-{tag}", f"up-{tag}", f"down-{tag}", f"pipe-{tag}"
    v0, v1, v2 = _v(tag, 0), _v(tag, 1), _v(tag, 2)
    payload = b"x" * 1024
    cases: list[tuple[str, str, int | None, Callable[[], Any]]] = [
        ("register_version (first version of an op)", "<= 4", 4,
         lambda: store.register_version(op, v0)),
        ("register_version (second version of an op)", "<= 4", 4,
         lambda: store.register_version(op, v1)),
        ("register_version (new version)", "<= 4", 4, lambda: store.register_version(op, v2)),
        ("register_version (re-register the latest)", "-", None,
         lambda: store.register_version(op, v2)),
        ("register_version (re-register an older one)", "-", None,
         lambda: store.register_version(op, v0)),
        ("latest_version", "<= 2", 2, lambda: store.latest_version(op)),
        ("latest_version (unknown op)", "<= 2", 2, lambda: store.latest_version(f"no-{tag}")),
        ("get_version (the latest)", "-", None, lambda: store.get_version(op, v2)),
        ("get_version (an older one)", "-", None, lambda: store.get_version(op, v0)),
        ("get_versions (N=3)", f"<= {_listing_budget(3)}", _listing_budget(3),
         lambda: store.get_versions(op)),
        ("save_op_bytes (new bytes, 1 KiB)", "-", None,
         lambda: store.save_op_bytes(op, v2, payload)),
        ("save_op_bytes (same bytes again)", "-", None,
         lambda: store.save_op_bytes(op, v2, payload)),
        ("load_op_bytes (1 KiB)", "<= 2 + transfer", 2, lambda: store.load_op_bytes(op, v2)),
        ("load_op_bytes_to (file object)", "<= 2 + transfer", 2,
         lambda: store.load_op_bytes_to(op, v2, io.BytesIO())),
        ("op_bytes_info", "-", None, lambda: store.op_bytes_info(op, v2)),
        ("register_valid_link (version is the latest)", "<= 3", 3,
         lambda: store.register_valid_link(down, op, v2)),
        ("register_valid_link (version registered, older)", "<= 3", 3,
         lambda: store.register_valid_link(down, op, v1)),
        ("register_valid_link (same link again)", "<= 3", 3,
         lambda: store.register_valid_link(down, op, v1)),
        ("register_valid_link (new upstream version)", "-", None,
         lambda: store.register_valid_link(down, up, _v(tag, 9))),
        ("register_valid_link (downstream None)", "-", None,
         lambda: store.register_valid_link(None, op, v2)),
        ("get_validated_links (N=2)", f"<= {_listing_budget(2)}", _listing_budget(2),
         lambda: store.get_validated_links(down, op)),
        ("register_pipeline (new)", "-", None, lambda: store.register_pipeline(pipe, down)),
        ("register_pipeline (already registered)", "-", None,
         lambda: store.register_pipeline(pipe, down)),
        ("pipeline_exists (yes)", "1", 1, lambda: store.pipeline_exists(pipe)),
        ("pipeline_exists (no)", "1", 1, lambda: store.pipeline_exists(f"none-{tag}")),
        ("get_pipeline", "-", None, lambda: store.get_pipeline(pipe)),
        ("set_alias (new alias)", "-", None, lambda: store.set_alias(op, "prod", v1)),
        ("set_alias (move it)", "-", None, lambda: store.set_alias(op, "prod", v2)),
        ("set_alias (compare-and-swap move)", "-", None,
         lambda: store.set_alias(op, "prod", v1, expected=v2)),
        ("get_alias", "1", 1, lambda: store.get_alias(op, "prod")),  # its head (D17)
        ("alias_history (3 positions)", "-", None, lambda: store.alias_history(op, "prod")),
        ("list_aliases", "-", None, lambda: store.list_aliases(op)),
        ("resolve('latest')", "-", None, lambda: store.resolve(op)),
        ("resolve(alias)", "1", 1, lambda: store.resolve(op, "prod")),
    ]
    if big_links:
        def seed_and_list() -> set[Version]:
            return store.get_validated_links(f"bigdown-{tag}", f"bigup-{tag}")

        _seed_links(client, bench.bucket, prefix, f"bigdown-{tag}", f"bigup-{tag}", big_links)
        cases.append((f"get_validated_links (N={big_links})",
                      f"<= {_listing_budget(big_links)}", _listing_budget(big_links),
                      seed_and_list))
    return cases


def _probe_cost(bench: Bench) -> dict[str, Any]:
    client = bench.client()
    counter = RequestCounter(client)
    forget_probes()
    store = OpStore(S3Store(bench.bucket, bench.prefix("probe"), client=client))
    store.check_store()
    snap = counter.snapshot()
    counter.reset()
    store.check_store()
    return {"first": snap, "again": counter.total}


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    repeats = 2 if bench.quick else 3
    big_links = 0 if bench.quick else 2500
    runs: dict[str, list[dict[str, Any]]] = {}
    budgets: dict[str, tuple[str, int | None]] = {}
    order: list[str] = []
    for rep in range(repeats):
        prefix = bench.prefix("requests")
        store, counter, client = bench.opstore(prefix)
        for name, budget_text, budget, call in _cases(store, f"r{rep}", bench, client, prefix,
                                                      big_links if rep == 0 else 0):
            counter.reset()
            call()
            runs.setdefault(name, []).append(counter.snapshot())
            budgets[name] = (budget_text, budget)
            if name not in order:
                order.append(name)
    rows = []
    failures = []
    table_data = []
    for name in order:
        samples = runs[name]
        totals = [s["total"] for s in samples]
        metas = [s["meta"] for s in samples]
        last = samples[-1]
        budget_text, budget = budgets[name]
        within = None if budget is None else max(metas) <= budget
        if within is False:
            failures.append(name)
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(last["by_kind"].items()))
        rows.append([name, min(metas), max(metas), last["blob"], last["log"], kinds,
                     budget_text, {None: "", True: "ok", False: "OVER"}[within]])
        table_data.append({"operation": name, "meta_min": min(metas), "meta_max": max(metas),
                           "total_max": max(totals), "blob": last["blob"],
                           "log": last["log"],
                           "by_kind": last["by_kind"], "budget": budget,
                           "within_budget": within, "runs": len(samples)})
    probe = _probe_cost(bench)
    result.tables.append(Table(
        ["operation", "metadata requests (min)", "(max)", "blob transfer requests",
         "history requests (D16)", "requests by kind (last run)", "budget (issue 2)",
         "within"],
        rows, caption=f"{repeats} runs on fresh names, SeaweedFS, after `check_store()`. "
        "Budgets count metadata requests; blob requests are the transfer; history "
        "requests are each write's event (1 PUT once the process knows the chain's head, "
        "and for a link, whose version's chain is new, at once)."))
    result.notes.append(
        f"The one-time conditional-write probe (`check_store()`) costs "
        f"{probe['first']['total']} requests ({probe['first']['by_kind']}) once per store "
        f"URL and process; afterwards {probe['again']}.")
    result.notes.append(
        "Full listings at 1,000 and 10,000 versions are counted in scenario 4 (Scale).")
    if failures:
        result.notes.append("OVER BUDGET: " + ", ".join(failures))
    result.data = {"operations": table_data, "probe": probe, "over_budget": failures}
    return result
