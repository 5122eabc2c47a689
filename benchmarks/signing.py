"""Scenario: what signing op bytes costs (design.md, D15), per save and per load.

Against SeaweedFS, in one run, pairs interleaved so a noisy neighbour hits both
sides alike: an unsigned save next to a signed one (``OpStore(signer=...)``),
and a load without trusted keys next to a verified load of the same bytes
(``OpStore(trusted_keys=...)``), which side goes first alternating. Every save
binds new bytes (the first 8 bytes carry a counter), so each one hashes and
uploads in full; loads stream to a file so 1 GiB stays out of memory.

Sizes: 1 KiB and 1 GiB (``--max-size`` below 1024 leaves the 1 GiB pairs out;
``--quick`` uses 1 KiB and 1 MiB). Also the bare Ed25519 sign and verify
times, which is all signing adds: the signature rides in the binding, so the
request counts of both sides must be equal (checked, or the scenario fails).
"""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks._common import Bench, GiB, KiB, MiB, Result, Table, fmt, ratio_interval, timed
from s3opstore import OpStore, Version
from s3opstore.trust import SigningKey, TrustedKeys, Verifier, sign_binding

NAME = "signing"
TITLE = "Signing op bytes: added cost per save and per load"


def _sizes(bench: Bench) -> list[tuple[int, int]]:
    """(size, pairs) to measure."""
    # Even pair counts: with the order alternating, each side goes first equally often.
    sizes = [(1 * KiB, 10), (1 * MiB, 6)] if bench.quick else [(1 * KiB, 40), (1 * GiB, 4)]
    return [(size, n) for size, n in sizes if not bench.max_size or size <= bench.max_size]


def _label(size: int) -> str:
    return f"{size // GiB} GiB" if size >= GiB else (
        f"{size // MiB} MiB" if size >= MiB else f"{size // KiB} KiB")


def _write(path: Path, size: int, counter: int) -> None:
    """Bytes unlike the last save's: a counter in the first 8 bytes of a reused file."""
    if not path.exists() or path.stat().st_size != size:
        with open(path, "wb") as fh:
            fh.truncate(size)
    with open(path, "r+b") as fh:
        fh.write(counter.to_bytes(8, "big"))


def _crypto(n: int) -> dict[str, float]:
    """Microseconds per Ed25519 sign and per verification of a binding."""
    from s3opstore.models.manifests import BytesBinding, VersionRecord, utc_now_ms

    key = SigningKey.generate()
    version = Version.from_parts(b"bench")
    record = VersionRecord(op_name="op", version=version, number=(1, 0, 0), seq=0,
                           registered_at=utc_now_ms(), registered_host="h", registered_pid=1)
    start = time.perf_counter()
    for _ in range(n):
        signature = sign_binding(key, record, "0" * 64, 1)
    sign_us = (time.perf_counter() - start) / n * 1e6
    binding = BytesBinding(op_name="op", version=version, seq=0, sha256="0" * 64, size=1,
                           token="0" * 32, registered_at=utc_now_ms(), registered_host="h",
                           registered_pid=1, signature=signature)
    verifier = Verifier(TrustedKeys.of(key))
    start = time.perf_counter()
    for _ in range(n):
        verifier.check_binding(binding, record)
    return {"sign_us": round(sign_us, 1),
            "verify_us": round((time.perf_counter() - start) / n * 1e6, 1)}


def run(bench: Bench) -> Result:
    result = Result(NAME, TITLE)
    key = SigningKey.generate()
    crypto = _crypto(200 if bench.quick else 2000)
    rows: list[list[Any]] = []
    data: dict[str, Any] = {"crypto": crypto}
    source, sink = bench.workdir / "signing-source.bin", bench.workdir / "signing-out.bin"
    for size, pairs in _sizes(bench):
        plain, counter, _client = bench.opstore(bench.prefix("signing"))
        signing = OpStore(plain.store, signer=key)
        trusting = OpStore(plain.store, trusted_keys=TrustedKeys.of(key))
        times: dict[str, list[float]] = {"save": [], "signed save": [], "load": [],
                                         "verified load": []}
        requests: dict[str, set[int]] = {name: set() for name in times}
        # Learn the op chain's head before measuring: a process's first append to a
        # chain costs a LIST more (design.md, D16), whichever side happens to go first.
        plain.register_version("op", Version.from_parts(f"{size}-warm".encode()))
        plain.set_tags("op", {"warm": "yes"})
        for i in range(pairs):
            sides = [("save", plain, plain), ("signed save", signing, trusting)]
            for name, saver, loader in sides if i % 2 == 0 else reversed(sides):
                version = Version.from_parts(f"{size}-{i}-{name}".encode())
                plain.register_version("op", version)
                _write(source, size, 2 * i + (name == "signed save"))
                counter.reset()
                times[name].append(timed(partial(saver.save_op_bytes, "op", version, source)))
                requests[name].add(counter.snapshot()["total"])
                load = "load" if name == "save" else "verified load"
                counter.reset()
                times[load].append(timed(partial(loader.load_op_bytes_to, "op", version, sink)))
                requests[load].add(counter.snapshot()["total"])
        if requests["save"] != requests["signed save"] or \
                requests["load"] != requests["verified load"]:
            raise AssertionError(f"signing changed the request counts: {requests}")
        label = _label(size)
        entry: dict[str, Any] = {"pairs": pairs}
        for what, base, signed in (("save", "save", "signed save"),
                                   ("load", "load", "verified load")):
            interval = ratio_interval([b / a for a, b in zip(times[base], times[signed],
                                                             strict=True)])
            added_ms = (statistics.median(times[signed]) - statistics.median(times[base])) * 1e3
            entry[what] = {"ratio_ci": interval.json(), "median_ms": round(
                statistics.median(times[base]) * 1e3, 3), "median_signed_ms": round(
                statistics.median(times[signed]) * 1e3, 3), "requests": sorted(requests[base]),
                "seconds": [round(t, 4) for t in times[base]],
                "signed_seconds": [round(t, 4) for t in times[signed]]}
            rows.append([label, what, pairs, fmt(statistics.median(times[base]) * 1e3, 2),
                         fmt(statistics.median(times[signed]) * 1e3, 2), fmt(added_ms, 2),
                         f"{fmt(interval.ratio, 3)} [{fmt(interval.low, 3)}, "
                         f"{fmt(interval.high, 3)}]", ", ".join(map(str, sorted(requests[base])))])
        data[label] = entry
    result.tables.append(Table(
        ["size", "operation", "pairs", "unsigned ms (median)", "signed ms (median)",
         "added ms", "signed / unsigned (95% CI)", "requests (both sides)"], rows,
        "Interleaved pairs on SeaweedFS; a save binds new bytes each time."))
    result.notes.append(f"Ed25519 alone: {crypto['sign_us']} µs to sign a binding, "
                        f"{crypto['verify_us']} µs to verify one (payload built and "
                        "checked included); the rest of a ratio's distance from 1 is noise.")
    result.data = data
    return result
