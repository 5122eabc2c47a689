"""``s3opstore demo``: a Chariots-like walk through the registry, on any store.

It registers a pipeline before its ops (as Chariots' pipeline server does),
registers versions of three ops showing the numbering rule (a new major hash
bumps the major number, and so on), saves and loads bytes, registers
validated links, points an alias, resolves the pipeline and prints a summary
built from what it already knows (no extra requests). Every version has a
fixed creation time and fixed hashes, so a second run finds everything
already there and says so: the registry's writes are idempotent.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime

from s3opstore.cli.output import Output, short_version
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.wrappers import CountingStore

__all__ = ["run_demo"]

PIPELINE = "iris_classification"
LAST_OP = "classifier"

# (op, major content, minor content, patch content): what each version changes.
_HISTORY: list[tuple[str, str, str, str, str]] = [
    ("scaler", "StandardScaler()", "fit on iris 2026-01", "", "first fit"),
    ("pca", "PCA(n_components=2)", "fit on iris 2026-01", "", "first fit"),
    ("pca", "PCA(n_components=2)", "fit on iris 2026-02", "", "re-fit on new data: minor"),
    ("pca", "PCA(n_components=2)", "fit on iris 2026-02", "float32", "smaller dtype: patch"),
    ("pca", "PCA(n_components=3)", "fit on iris 2026-02", "", "new hyper-parameter: major"),
    ("classifier", "LogisticRegression(C=1.0)", "fit 2026-02", "", "first fit"),
    ("classifier", "LogisticRegression(C=1.0)", "fit 2026-03", "", "re-fit: minor"),
]


@dataclass
class _Summary:
    versions: dict[str, list[str]] = field(default_factory=dict)
    new_versions: int = 0
    reused_versions: int = 0
    bytes_saved: int = 0
    links: int = 0
    requests: dict[str, int] = field(default_factory=dict)


def _version(index: int, major: str, minor: str, patch: str) -> Version:
    # Fixed creation times: the same demo versions on every run.
    return Version.from_parts(major, minor, patch,
                              creation_time=datetime(2026, 1, 1 + index, 12, 0, 0))


def _command() -> str:
    """How to run s3opstore from here: the script on PATH if it is this install's, else -m."""
    script = shutil.which("s3opstore")
    here = os.path.dirname(sys.executable)
    if script is not None and os.path.dirname(os.path.realpath(script)) in (
            here, os.path.realpath(here)):
        return "s3opstore"
    return f"{shlex.quote(sys.executable)} -m s3opstore"


def run_demo(base: OpStore, out: Output) -> dict[str, object]:
    counting = CountingStore(base.store)
    store = OpStore(counting)
    summary = _Summary()
    say = out.line

    def step(title: str) -> None:
        counting.reset()
        say("")
        say(f"== {title}")

    def done(name: str) -> None:
        summary.requests[name] = counting.total
        say(f"   ({counting.total} store requests)")

    say(f"s3opstore demo on {store.url}")

    step(f"1. register pipeline {PIPELINE!r} (last op {LAST_OP!r}) before any op, like Chariots")
    already = store.pipeline_exists(PIPELINE)
    pipeline = store.register_pipeline(PIPELINE, LAST_OP)
    say(f"   pipeline {pipeline.pipeline_name} -> last op {pipeline.last_op_name}"
        f" ({'already registered' if already else 'registered'})")
    done("pipeline")

    step("2. register versions: a changed major hash bumps major, then minor, then patch")
    records = {}
    known: dict[str, set[str]] = {}
    for index, (op, major, minor, patch, why) in enumerate(_HISTORY):
        version = _version(index, major, minor, patch)
        if op not in known:
            known[op] = {r.version.vid for r in store.get_versions(op)}
        existed = version.vid in known[op]
        record = store.register_version(op, version)
        records[(op, index)] = record
        summary.versions.setdefault(op, []).append(record.number_text)
        if existed:
            summary.reused_versions += 1
        else:
            summary.new_versions += 1
        state = "reused (already registered)" if existed else "new"
        say(f"   {op:<11} {record.number_text:<6} {why:<28} {state}")
        say(f"               {short_version(record.version)}")
    done("versions")

    step("3. save and load op bytes (content-addressed, digest verified)")
    for (op, index), record in records.items():
        payload = f"serialized {op} #{index}: {_HISTORY[index][1]} / {_HISTORY[index][2]}\n"
        data = payload.encode() * 64
        saved = store.save_op_bytes(op, record.version, data)
        loaded = store.load_op_bytes(op, record.version)
        assert loaded == data
        summary.bytes_saved += saved.size
        say(f"   {op:<11} {record.number_text:<6} sha256:{saved.sha256[:16]}...  "
            f"{saved.size} bytes  loaded back: identical")
    done("bytes")

    step("4. register validated links (this upstream version is valid input downstream)")
    newest = {op: record for (op, _), record in records.items()}
    for downstream, upstream in (("pca", "scaler"), (LAST_OP, "pca"), (None, LAST_OP)):
        record = store.register_valid_link(downstream, upstream, newest[upstream].version)
        if downstream is None:
            say(f"   {upstream} {record.number_text} ends the pipeline (registered, no link)")
            continue
        summary.links += 1
        say(f"   {upstream} {record.number_text} -> {downstream}")
    done("links")

    step("5. point the alias 'production' of the classifier at its newest version")
    alias = store.set_alias(LAST_OP, "production", newest[LAST_OP].version)
    say(f"   {LAST_OP}@production -> {newest[LAST_OP].number_text} "
        f"(alias position #{alias.seq})")
    resolved = store.resolve(LAST_OP, "production")
    say(f"   resolve({LAST_OP!r}, 'production') = {resolved.number_text}")
    done("alias")

    step(f"6. resolve pipeline {PIPELINE!r}: what a worker would load")
    resolution = store.resolve_pipeline(PIPELINE)
    for chosen in resolution.ops:
        say(f"   {chosen.op_name:<11} {chosen.record.number_text:<6} "
            f"{short_version(chosen.record.version)}")
    for missing in resolution.missing:
        say(f"   MISSING: {missing.reason}")
    done("resolve")

    say("")
    say("== summary (from the results above, no further requests)")
    for op, numbers in summary.versions.items():
        say(f"   {op:<11} versions {' -> '.join(dict.fromkeys(numbers))}")
    say(f"   {summary.new_versions} new versions, {summary.reused_versions} reused, "
        f"{summary.links} validated links, {summary.bytes_saved} bytes stored")
    say("   store requests per step: "
        + ", ".join(f"{name} {count}" for name, count in summary.requests.items()))
    say(f"   try: {_command()} --store {store.url} versions pca")
    return {"store": store.url, "pipeline": PIPELINE, "versions": summary.versions,
            "new_versions": summary.new_versions, "reused_versions": summary.reused_versions,
            "links": summary.links, "bytes_saved": summary.bytes_saved,
            "requests": summary.requests, "resolution": resolution.to_json()}
