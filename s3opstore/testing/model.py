"""A reference model of the registry, and the store's state in the same shape.

:class:`RegistryState` is the registry's *logical* content: what a user can
observe, without timestamps, pids or tokens. :func:`observe` reads it from an
:class:`OpStore` through the public API; :class:`RegistryModel` computes it by
applying the documented rules in plain Python (no store, no concurrency). The
reliability tests drive both with the same operations and compare, so a
lost, duplicated or misnumbered write shows up as a difference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from s3opstore.errors import (
    AlreadyExistsError,
    ConflictError,
    OpNotFoundError,
    VersionNotFoundError,
)
from s3opstore.models.manifests import VersionNumber
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

__all__ = ["RegistryModel", "RegistryState", "observe"]

Vid = str


@dataclass
class RegistryState:
    """Comparable logical content of a registry."""

    # op -> [(vid, number)] in registration order
    versions: dict[str, list[tuple[Vid, VersionNumber]]] = field(default_factory=dict)
    # (op, vid) -> [sha256] of its byte bindings, oldest first
    bindings: dict[tuple[str, Vid], list[str]] = field(default_factory=dict)
    # (downstream, upstream) -> validated upstream vids
    links: dict[tuple[str, str], set[Vid]] = field(default_factory=dict)
    # pipeline -> last op
    pipelines: dict[str, str] = field(default_factory=dict)
    # (op, alias) -> [vid] positions, oldest first
    aliases: dict[tuple[str, str], list[Vid]] = field(default_factory=dict)
    # ops listed by list_ops()
    ops: set[str] = field(default_factory=set)

    def diff(self, other: RegistryState) -> list[str]:
        """Human-readable differences (empty when equal)."""
        out = []
        for name in ("versions", "bindings", "links", "pipelines", "aliases", "ops"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                if isinstance(mine, dict):
                    for key in sorted(set(mine) | set(theirs), key=repr):
                        if mine.get(key) != theirs.get(key):
                            out.append(f"{name}[{key!r}]: {mine.get(key)!r} != "
                                       f"{theirs.get(key)!r}")
                else:
                    out.append(f"{name}: {sorted(mine)!r} != {sorted(theirs)!r}")
        return out


def observe(store: OpStore, *, extra_ops: set[str] | None = None) -> RegistryState:
    """Read the logical state through the public API (every op, version, binding...)."""
    from s3opstore.models.codec import decode
    from s3opstore.models.keys import LINKS_PREFIX, bytes_prefix, decode_names, upstreams_prefix
    from s3opstore.models.manifests import BytesBinding

    state = RegistryState()
    ops = set(store.list_ops())
    state.ops = set(ops)
    for op in sorted(ops | (extra_ops or set())):
        records = store.get_versions(op)
        if records:
            state.versions[op] = [(r.version.vid, r.number) for r in records]
        for record in records:
            prefix = bytes_prefix(op, record.version)
            shas = []
            for info in store.store.list(prefix):
                binding = decode(BytesBinding, store.store.get(info.key).data, info.key)
                shas.append((binding.seq, binding.sha256))
            if shas:
                state.bindings[(op, record.version.vid)] = [sha for _, sha in sorted(shas)]
        for alias in store.list_aliases(op):
            state.aliases[(op, alias)] = [e.version.vid for e in store.alias_history(op, alias)]
    for pipeline in store.list_pipelines():
        state.pipelines[pipeline] = store.get_pipeline(pipeline).last_op_name
    for downstream in decode_names(store.store.list_dirs(LINKS_PREFIX)):
        for upstream in decode_names(store.store.list_dirs(upstreams_prefix(downstream))):
            found = store.get_validated_links(downstream, upstream)
            if found:
                state.links[(downstream, upstream)] = {v.vid for v in found}
    return state


def _next_number(latest: tuple[Version, VersionNumber], version: Version) -> VersionNumber:
    previous, (major, minor, patch) = latest
    if version.major != previous.major:
        return (major + 1, 0, 0)
    if version.minor != previous.minor:
        return (major, minor + 1, 0)
    if version.patch != previous.patch:
        return (major, minor, patch + 1)
    return (major, minor, patch)


class RegistryModel:
    """The registry's rules, sequentially, in memory. Methods mirror OpStore's."""

    def __init__(self) -> None:
        self.state = RegistryState()
        self._versions: dict[str, list[tuple[Version, VersionNumber]]] = {}

    def _find(self, op: str, version: Version) -> VersionNumber | None:
        for known, number in self._versions.get(op, []):
            if known == version:
                return number
        return None

    def _require(self, op: str, version: Version) -> None:
        if op not in self._versions:
            raise OpNotFoundError(f"op {op!r} has no registered versions")
        if self._find(op, version) is None:
            raise VersionNotFoundError(f"version {version} of op {op!r} is not registered")

    def register_version(self, op: str, version: Version) -> VersionNumber:
        found = self._find(op, version)
        if found is not None:
            return found
        history = self._versions.setdefault(op, [])
        number = (1, 0, 0) if not history else _next_number(history[-1], version)
        history.append((version, number))
        self.state.versions.setdefault(op, []).append((version.vid, number))
        self.state.ops.add(op)
        return number

    def save_op_bytes(self, op: str, version: Version, data: bytes) -> str:
        self._require(op, version)
        sha = hashlib.sha256(data).hexdigest()
        shas = self.state.bindings.setdefault((op, version.vid), [])
        if not shas or shas[-1] != sha:
            shas.append(sha)
        return sha

    def load_op_bytes_sha(self, op: str, version: Version) -> str | None:
        shas = self.state.bindings.get((op, version.vid))
        return shas[-1] if shas else None

    def register_valid_link(self, downstream: str | None, upstream: str,
                            version: Version) -> VersionNumber:
        number = self.register_version(upstream, version)
        if downstream is not None:
            self.state.links.setdefault((downstream, upstream), set()).add(version.vid)
            self.state.ops.add(downstream)
        return number

    def register_pipeline(self, name: str, last_op: str) -> None:
        current = self.state.pipelines.get(name)
        if current is not None and current != last_op:
            # A refused registration writes nothing: not even the last op's marker.
            raise AlreadyExistsError(f"pipeline {name!r} has last op {current!r}")
        self.state.ops.add(last_op)
        self.state.pipelines[name] = last_op

    def set_alias(self, op: str, alias: str, version: Version, *,
                  expected: Vid | bool | None = False) -> None:
        """``expected=False``: unconditional; else the vid (or None) it must point at now."""
        self._require(op, version)
        history = self.state.aliases.get((op, alias), [])
        current = history[-1] if history else None
        if current == version.vid:
            return  # already there: a retried move that landed is no conflict
        if expected is not False and current != expected:
            raise ConflictError(f"alias {alias!r} points at {current}, not {expected}")
        if current != version.vid:
            self.state.aliases.setdefault((op, alias), []).append(version.vid)
