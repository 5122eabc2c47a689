"""The write paths the fault matrix exercises: a fault-free setup and one action each.

Versions use fixed creation times, so two runs of a path store the same
logical content and their results compare equal after :func:`summary`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    keyed_only: bool = False  # a plain retry is not meant to be idempotent


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
                                       idempotency_key=k), keyed_only=True),
]
