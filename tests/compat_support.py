"""Stand-ins for the Chariots objects its pipelines hand to an op store client.

``FakeChariotsVersion`` has the semantics of ``chariots.versioning.Version``
at the targeted commit (see docs/http-api.md): hashes grown with hashlib,
``str()`` is ``"<major>.<minor>.<patch>_<str(creation_time)>"``, ``==``
compares the three hex digests of ANY object that has them, ``hash()`` hashes
the string (time included), ``>`` orders by creation time, and ``parse``
splits the string once on ``_``. It is deliberately not s3opstore's Version.

``persist`` / ``load_latest`` / ``check_compatible`` walk a chain of nodes the
way Chariots' ``Pipeline.save`` and ``Pipeline.load`` call the client.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class FakeChariotsVersion:
    def __init__(self, major: Any = None, minor: Any = None, patch: Any = None,
                 creation_time: datetime | None = None) -> None:
        self._major = major or hashlib.sha1(usedforsecurity=False)
        self._minor = minor or hashlib.sha1(usedforsecurity=False)
        self._patch = patch or hashlib.sha1(usedforsecurity=False)
        self.creation_time = creation_time or datetime(2020, 4, 13, 12, 0, 0, 1)

    @staticmethod
    def _hex(part: Any) -> str:
        return part if isinstance(part, str) else str(part.hexdigest())

    @property
    def major(self) -> str:
        return self._hex(self._major)

    @property
    def minor(self) -> str:
        return self._hex(self._minor)

    @property
    def patch(self) -> str:
        return self._hex(self._patch)

    def update_major(self, data: bytes) -> FakeChariotsVersion:
        self._major.update(data)
        return self

    def update_minor(self, data: bytes) -> FakeChariotsVersion:
        self._minor.update(data)
        return self

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}_{self.creation_time}"

    def __repr__(self) -> str:
        return f"<FakeChariotsVersion {self}>"

    def __eq__(self, other: Any) -> bool:  # no isinstance check, as in Chariots
        return bool(self.major == other.major and self.minor == other.minor
                    and self.patch == other.patch)

    def __hash__(self) -> int:
        return hash(str(self))

    def __gt__(self, other: Any) -> bool:
        if self == other:
            return False
        return bool(self.creation_time > other.creation_time)

    @classmethod
    def parse(cls, text: str) -> FakeChariotsVersion:
        hashes, moment = text.split("_")
        major, minor, patch = hashes.split(".")
        return cls(major, minor, patch, datetime.fromisoformat(moment))


def cv(major: bytes, minor: bytes = b"", *, at: int = 1, micro: int = 0) -> FakeChariotsVersion:
    """A Chariots-style version grown from field bytes, created on day ``at``."""
    version = FakeChariotsVersion(creation_time=datetime(2020, 4, at, 12, 0, 0, micro))
    return version.update_major(major).update_minor(minor)


@dataclass
class Op:
    name: str


@dataclass
class ChariotsNode:
    """One node: ``loadable`` ops save bytes; data sources and nested pipelines never do."""

    name: str
    version: FakeChariotsVersion
    loadable: bool = True
    data: bytes = b""
    loaded: bytes | None = field(default=None)


class ChariotsPipeline:
    """Shaped like chariots.Pipeline: links are (upstream_node, downstream_node) pairs."""

    def __init__(self, name: str, nodes: list[ChariotsNode]) -> None:
        self.name = name
        self.nodes = nodes

    def get_all_op_links(self) -> list[tuple[ChariotsNode, ChariotsNode | None]]:
        return list(zip(self.nodes, [*self.nodes[1:], None], strict=True))


def save_pipeline(client: Any, pipeline: ChariotsPipeline) -> None:
    """Chariots' pipeline server: ask, register, then every node persists itself."""
    if not client.pipeline_exists(pipeline.name):
        client.register_new_pipeline(pipeline)
    for upstream, downstream in pipeline.get_all_op_links():
        client.register_valid_link(None if downstream is None else downstream.name,
                                   upstream.name, upstream.version)
        if upstream.loadable:
            client.save_op_bytes(Op(upstream.name), upstream.version, upstream.data)


def load_pipeline(client: Any, pipeline: ChariotsPipeline) -> None:
    """Chariots' Pipeline.load: newest version of each loadable node, links checked."""
    for upstream, downstream in pipeline.get_all_op_links():
        if upstream.loadable:
            versions = client.get_all_versions_of_op(Op(upstream.name))
            if versions is not None and upstream.version.major in {v.major for v in versions}:
                upstream.loaded = client.get_op_bytes_for_version(Op(upstream.name),
                                                                  max(versions))
        if downstream is not None:
            links = client.get_validated_links(downstream.name, upstream.name)
            if links is not None and upstream.version.major not in {v.major for v in links}:
                raise ValueError(f"no validated link from {upstream.name} to {downstream.name}")
