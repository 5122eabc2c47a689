"""Scenario 8: profile of the slowest scenario (scale), and the fix it points at.

The scale scenario spends its time in ``register_version`` (seeding) and in
the full listing ``get_versions``. cProfile of both on the op the scale
scenario grew shows where the time goes:

- ``register_version``: four sequential round trips; socket waits and
  botocore's request machinery dominate, s3opstore's own code (validation,
  JSON) is a few percent. Dropping botocore's ``Expect: 100-continue`` on
  tiny PUTs was tried and gained nothing measurable on loopback, so the only
  lever left is fewer sequential requests (a protocol change, see the report).
- ``get_versions``: most of the client time is botocore parsing the LIST XML,
  and within it dateutil parsing each entry's ``LastModified``. A boto3
  client whose timestamp parser takes the ISO-8601 fast path
  (``datetime.fromisoformat``, falling back to botocore's parser) removes that.

Both clients are timed interleaved on the same op in the same run. The fix
belongs in ``s3opstore.stores.s3.default_client`` (not owned by the
benchmarks); this scenario keeps the before/after figures.
"""

from __future__ import annotations

import cProfile
import pstats
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from benchmarks._common import Bench, Result, Table, fmt, ratio, stats, timed
from s3opstore import OpStore, Version
from s3opstore.stores.s3 import S3Store, endpoint_client
from s3opstore.testing.servers import ACCESS_KEY, SECRET_KEY

NAME = "profile"
TITLE = "8. Profile of the slowest scenario (scale) and a client-side fix"

_T0 = datetime(2025, 1, 1, tzinfo=UTC)


def stock_client(endpoint: str) -> Any:
    """A plain boto3 client: botocore's stock timestamp parser (the "before")."""
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"},
                      retries={"mode": "standard", "max_attempts": 5},
                      max_pool_connections=32))


def tuned_client(endpoint: str) -> Any:
    """The client s3opstore builds (``stores.s3.endpoint_client``), with the fast
    timestamp parser this profile led to (the "after")."""
    return endpoint_client(endpoint, ACCESS_KEY, SECRET_KEY, max_pool_connections=32)


def _v(tag: str, i: int) -> Version:
    return Version.from_parts(major=tag, patch=str(i), creation_time=_T0 + timedelta(seconds=i))


def _top(profile: cProfile.Profile, limit: int = 10) -> list[list[Any]]:
    stats_ = pstats.Stats(profile)
    total = sum(row[2] for row in stats_.stats.values())  # type: ignore[attr-defined]
    rows = []
    entries = sorted(stats_.stats.items(), key=lambda kv: kv[1][2],  # type: ignore[attr-defined]
                     reverse=True)
    for (filename, line, func), (_cc, calls, tottime, _cum, _callers) in entries[:limit]:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        rows.append([f"{where}:{line}({func})", calls, fmt(tottime, 3),
                     fmt(100 * tottime / total, 1)])
    return rows


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    scale = bench.shared.get("scale")
    default_client = stock_client(bench.server.endpoint)
    if scale is None:  # scale was not run: grow a smaller op here
        prefix, op = bench.prefix("profile"), "grown"
        store = OpStore(S3Store(bench.bucket, prefix, client=default_client))
        for i in range(200 if bench.quick else 1000):
            store.register_version(op, _v("seed", i))
        count = 200 if bench.quick else 1000
    else:
        prefix, op, count = scale["prefix"], scale["op"], scale["versions"]
    default = OpStore(S3Store(bench.bucket, prefix, client=default_client))
    tuned = OpStore(S3Store(bench.bucket, prefix, client=tuned_client(bench.server.endpoint)))
    default.check_store()
    tuned.check_store()

    registrations = 20 if bench.quick else 100
    listings = 3 if bench.quick else 5
    listing_profile, register_profile = cProfile.Profile(), cProfile.Profile()
    listing_profile.runcall(default.get_versions, op)
    for i in range(registrations):
        register_profile.runcall(default.register_version, "prof-reg", _v("prof", i))

    samples: dict[tuple[str, str], list[float]] = {}
    for i in range(max(registrations, listings)):
        for label, store in (("default client", default), ("tuned client", tuned)):
            if i < registrations:
                samples.setdefault((label, "register_version (new)"), []).append(
                    timed(lambda s=store, lb=label, i=i: s.register_version(  # type: ignore[misc]
                        f"cmp-{lb[:5]}", _v("cmp", i))))
                samples.setdefault((label, "latest_version"), []).append(
                    timed(lambda s=store: s.latest_version(op)))  # type: ignore[misc]
            if i < listings:
                samples.setdefault((label, f"get_versions ({count:,})"), []).append(
                    timed(lambda s=store: s.get_versions(op)))  # type: ignore[misc]
    rows, data = [], {}
    for name in dict.fromkeys(n for _label, n in samples):
        before = stats(samples[("default client", name)])
        after = stats(samples[("tuned client", name)])
        rows.append([name, fmt(before.median * 1e3), fmt(after.median * 1e3),
                     fmt(ratio(after.median, before.median)), before.n])
        data[name] = {"before_ms": before.json(1e3), "after_ms": after.json(1e3),
                      "after_over_before": round(ratio(after.median, before.median), 3)}
    result.tables.append(Table(
        ["function (by own time)", "calls", "own s", "% of profile"], _top(listing_profile),
        caption=f"cProfile of one `get_versions` over {count:,} versions (default client)."))
    result.tables.append(Table(
        ["function (by own time)", "calls", "own s", "% of profile"], _top(register_profile),
        caption=f"cProfile of {registrations} `register_version` calls (default client)."))
    result.tables.append(Table(
        ["operation", "before: default client, median ms", "after: tuned client, median ms",
         "after / before", "calls each"], rows,
        caption="Before/after, interleaved on the same op in the same run."))
    result.notes.append(
        "Fix applied in the core: the clients s3opstore builds (stores/s3.py `_session`) "
        "parse response timestamps with an ISO-8601 fast path; 'before' is a stock boto3 "
        "client. register_version is bound by its 4 sequential round trips; s3opstore's "
        "own code is a few percent of its profile.")
    result.data = {"versions": count, "comparison": data}
    return result
