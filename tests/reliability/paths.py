"""The write paths the fault matrix exercises: a fault-free setup and one action each.

Versions use fixed creation times, so two runs of a path store the same
logical content and their results compare equal after :func:`summary`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from s3opstore.errors import S3OpStoreError
from s3opstore.maintenance.gc import GcReport, collect_garbage
from s3opstore.maintenance.import_chariots import ImportReport, import_chariots
from s3opstore.models.keys import blob_key, trash_key, upload_key
from s3opstore.models.manifests import AliasManifest, PipelineManifest, VersionRecord
from s3opstore.models.version import Version
from s3opstore.registry.blobs import OpBytes
from s3opstore.registry.opstore import OpStore

T0 = datetime(2024, 1, 1, 12, 0, 0)


def v(major: str, minor: str = "m", patch: str = "p", at: int = 0) -> Version:
    return Version.from_parts(major, minor, patch, creation_time=T0 + timedelta(seconds=at))


def summary(result: object) -> Any:
    """The caller-visible content of a result, without tokens, pids or clocks."""
    if isinstance(result, VersionRecord):
        return ("record", result.op_name, result.version.vid, result.number, result.seq)
    if isinstance(result, OpBytes):
        return ("bytes", result.op_name, result.version.vid, result.sha256, result.size,
                result.key)
    if isinstance(result, PipelineManifest):
        return ("pipeline", result.pipeline_name, result.last_op_name)
    if isinstance(result, AliasManifest):
        return ("alias", result.op_name, result.alias, result.seq, result.version.vid)
    return result


Action = Callable[[OpStore, str | None], object]


@dataclass(frozen=True)
class WritePath:
    name: str
    setup: Callable[[OpStore], object]
    action: Action
    summarize: Callable[[object], Any] = summary


def _nothing(store: OpStore) -> None:
    return None


def _two_versions(store: OpStore) -> None:
    store.register_version("op", v("a", at=1))
    store.register_version("op", v("a", "b", at=2))


def _setup_reused(store: OpStore) -> None:
    store.register_version("op", v("a", at=1))
    store.register_version("op", v("b", at=2))
    store.save_op_bytes("op", v("a", at=1), b"shared model bytes")


def _setup_rebind(store: OpStore) -> None:
    store.register_version("op", v("a", at=1))
    store.save_op_bytes("op", v("a", at=1), b"first bytes")
    store.save_op_bytes("op", v("a", at=1), b"second bytes")


def _setup_saved(store: OpStore) -> None:
    store.register_version("op", v("a", at=1))
    store.save_op_bytes("op", v("a", at=1), b"first bytes")


def _setup_alias(store: OpStore) -> None:
    _two_versions(store)
    store.set_alias("op", "prod", v("a", at=1))


PATHS = [
    WritePath("register_version:first", _nothing,
              lambda s, k: s.register_version("op", v("a", at=1), idempotency_key=k)),
    WritePath("register_version:new", _two_versions,
              lambda s, k: s.register_version("op", v("c", at=3), idempotency_key=k)),
    WritePath("register_version:new-patch", _two_versions,
              lambda s, k: s.register_version("op", v("a", "b", "q", at=3), idempotency_key=k)),
    WritePath("register_version:existing", _two_versions,
              lambda s, k: s.register_version("op", v("a", at=1), idempotency_key=k)),
    WritePath("register_valid_link:new-upstream",
              lambda s: s.register_pipeline("pipe", "down"),
              lambda s, k: s.register_valid_link("down", "up", v("u", at=1), idempotency_key=k)),
    WritePath("register_valid_link:known-upstream",
              lambda s: s.register_version("up", v("u", at=1)),
              lambda s, k: s.register_valid_link("down", "up", v("u", at=1), idempotency_key=k)),
    WritePath("register_valid_link:end-of-pipeline",
              lambda s: s.register_version("up", v("u", at=1)),
              lambda s, k: s.register_valid_link(None, "up", v("w", at=2), idempotency_key=k)),
    WritePath("save_op_bytes:new-blob", lambda s: s.register_version("op", v("a", at=1)),
              lambda s, k: s.save_op_bytes("op", v("a", at=1), b"model bytes",
                                           idempotency_key=k)),
    WritePath("save_op_bytes:reused-blob", _setup_reused,
              lambda s, k: s.save_op_bytes("op", v("b", at=2), b"shared model bytes",
                                           idempotency_key=k)),
    WritePath("save_op_bytes:rebind-older-blob", _setup_rebind,
              lambda s, k: s.save_op_bytes("op", v("a", at=1), b"first bytes",
                                           idempotency_key=k)),
    WritePath("save_op_bytes:same-bytes", _setup_saved,
              lambda s, k: s.save_op_bytes("op", v("a", at=1), b"first bytes",
                                           idempotency_key=k)),
    WritePath("register_pipeline:new", _nothing,
              lambda s, k: s.register_pipeline("pipe", "last", idempotency_key=k)),
    WritePath("register_pipeline:existing", lambda s: s.register_pipeline("pipe", "last"),
              lambda s, k: s.register_pipeline("pipe", "last", idempotency_key=k)),
    WritePath("set_alias:first", lambda s: s.register_version("op", v("a", at=1)),
              lambda s, k: s.set_alias("op", "prod", v("a", at=1), idempotency_key=k)),
    WritePath("set_alias:move", _setup_alias,
              lambda s, k: s.set_alias("op", "prod", v("a", "b", at=2), idempotency_key=k)),
    WritePath("set_alias:compare-and-swap", _setup_alias,
              lambda s, k: s.set_alias("op", "prod", v("a", "b", at=2), expected=v("a", at=1),
                                       idempotency_key=k)),
]


STAGED = b"model bytes a presigned-upload client PUT to its staging key"
STAGED_SHA = hashlib.sha256(STAGED).hexdigest()
STAGING_KEY = upload_key("op", "5" * 32)  # fixed, so every run stores the same state


def _setup_staged(store: OpStore) -> None:
    store.register_version("op", v("a", at=1))
    store.store.put(STAGING_KEY, STAGED)


PATHS += [
    WritePath("commit_upload:staged", _setup_staged,
              lambda s, k: s.bind_uploaded_blob("op", v("a", at=1), STAGED_SHA, len(STAGED),
                                                upload_key=STAGING_KEY, idempotency_key=k)),
]


# -- maintenance paths ----------------------------------------------------------
ORPHAN = b"bytes uploaded by a writer that died before binding them"


def _setup_garbage(store: OpStore) -> None:
    _setup_rebind(store)  # a superseded binding: its blob stays referenced
    store.store.put(blob_key("op", hashlib.sha256(ORPHAN).hexdigest()), ORPHAN)


def _setup_bound_in_trash(store: OpStore) -> None:
    """A bound blob a killed gc left in the trash: the next gc must put it back."""
    _setup_saved(store)
    sha = hashlib.sha256(b"first bytes").hexdigest()
    store.store.copy(blob_key("op", sha), trash_key("op", sha, "7" * 32))
    store.store.delete(blob_key("op", sha))


def _gc(store: OpStore, key: str | None) -> GcReport:
    return collect_garbage(store, grace_hours=0)


def _gc_summary(result: object) -> Any:
    # A retry after a faulted sweep has less left to delete: the final store
    # (compared separately, blobs included) is what must not differ.
    assert isinstance(result, GcReport)
    return "swept"


_SEED: dict[str, Path] = {}


def chariots_seed() -> Path:
    """A small Chariots database and FileSaver directory (built once per process)."""
    if "root" not in _SEED:
        from tests.maintenance.seed_db import SeedOpStore

        root = Path(tempfile.mkdtemp(prefix="s3opstore-seed-"))
        seed = SeedOpStore(root / "chariots.db", root / "saver")
        seed.register_new_pipeline("iris", "classifier")
        first, second = v("pca-1", at=1), v("pca-1", "fit-2", at=2)
        for index, version in enumerate((first, second)):
            seed.register_valid_link(None, "pca", version)
            seed.save_op_bytes("pca", version, f"pickled pca {index}".encode())
        seed.register_valid_link("classifier", "pca", second)
        seed.close()
        _SEED["root"] = root
    return _SEED["root"]


def _import(store: OpStore, key: str | None) -> ImportReport:
    root = chariots_seed()
    return import_chariots(store, f"sqlite:///{root / 'chariots.db'}", root / "saver")


def _import_summary(result: object) -> Any:
    # versions_registered / versions_existing split differently on a resumed run.
    assert isinstance(result, ImportReport)
    return (result.complete, result.bytes_bound, result.links, result.pipelines,
            [(r.op, r.version, r.number) for r in result.renumbered])


class CliReportedError(S3OpStoreError):
    """Test-only: the CLI exited non-zero with a typed ``error [kind]`` line on stderr."""

    kind = "cli_error"


def _cli(*argv: str) -> Action:
    """Run ``s3opstore <argv>`` in process, on the store under test (faults included)."""

    def action(store: OpStore, key: str | None) -> object:
        cli_main = importlib.import_module("s3opstore.cli.main").main

        err = io.StringIO()
        with mock.patch.object(OpStore, "from_url", return_value=store), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = cli_main([*argv])
        if code != 0:
            match = re.search(r"error \[([a-z_]+)\]", err.getvalue())
            if match is None:  # an untyped failure: the harness counts it as one
                raise RuntimeError(f"exit {code} without a typed error: {err.getvalue()!r}")
            raise CliReportedError(f"exit {code}: {match[1]}")
        return "exit 0"

    return action


def _cli_import(store: OpStore, key: str | None) -> object:
    root = chariots_seed()
    return _cli("import-chariots", "--db", f"sqlite:///{root / 'chariots.db'}",
                "--ops-dir", str(root / "saver"))(store, key)


MAINTENANCE_PATHS = [
    WritePath("gc:unreferenced-blob", _setup_garbage, _gc, summarize=_gc_summary),
    WritePath("gc:bound-blob-in-trash", _setup_bound_in_trash, _gc, summarize=_gc_summary),
    WritePath("import-chariots", _nothing, _import, summarize=_import_summary),
    WritePath("cli gc --grace 0", _setup_garbage, _cli("gc", "--grace", "0")),
    WritePath("cli import-chariots", _nothing, _cli_import),
]
