"""fsck's walk: one LIST of the store, each key sorted into what it is.

:class:`FsckContext` holds what the walk found (per op: head, listing
entries, bindings, blobs, trash copies; links, aliases, pipelines) for the
checks that follow, and the helpers they share to read a manifest or a name
while recording why it could not be read. Version entries and op markers are
checked as they are met (they need nothing else).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s3opstore.errors import (
    CorruptManifestError,
    ObjectNotFoundError,
    S3OpStoreError,
    UnsupportedFormatError,
)
from s3opstore.maintenance.fsck_report import Findings
from s3opstore.models.codec import decode
from s3opstore.models.head import OpHead
from s3opstore.models.keys import (
    ALIAS_HEADS_PREFIX,
    EVENTS_PREFIX,
    FORMAT_KEY,
    name_of_segment,
    parse_version_entry,
)
from s3opstore.models.manifests import OpMarker, VersionManifest, VersionRecord
from s3opstore.models.names import encode_name
from s3opstore.stores.base import ObjectInfo, ObjectStore
from s3opstore.trust.verify import Verifier

__all__ = ["FsckContext", "OpState", "ProgressFn"]

ProgressFn = Callable[[int, int], None]


@dataclass
class OpState:
    """Everything the walk found under ``ops/<op>/``."""

    head: OpHead | None = None
    head_key: str = ""
    entries: list[tuple[str, VersionRecord]] = field(default_factory=list)
    bindings: list[str] = field(default_factory=list)
    blobs: dict[str, ObjectInfo] = field(default_factory=dict)
    trash: dict[str, list[ObjectInfo]] = field(default_factory=dict)
    marker: bool = False


class FsckContext:
    """The store under check, what its walk found, and where findings go."""

    def __init__(self, store: ObjectStore, findings: Findings,
                 progress: ProgressFn | None = None) -> None:
        self.store = store
        self.findings = findings
        self.deep = findings.deep
        self.progress = progress
        self.ops: dict[str, OpState] = {}
        self.links: list[str] = []
        self.aliases: list[str] = []
        self.alias_heads: list[str] = []
        self.pipelines: list[str] = []
        #: op -> vid -> record, filled by the op check for the checks after it
        self.registered: dict[str, dict[str, VersionRecord]] = {}
        #: set when fsck is given trusted keys: every binding's signature is checked (D15)
        self.verifier: Verifier | None = None

    def walk(self) -> None:
        for info in self.store.list(""):
            self.classify(info)

    def count(self, name: str) -> None:
        self.findings.count(name)

    def read(self, key: str, model: type[Any]) -> Any:
        """The parsed manifest, or None after recording why it could not be read."""
        try:
            return decode(model, self.store.get(key).data, key)
        except CorruptManifestError as exc:
            self.findings.add(key, "corrupt_manifest", exc.message)
        except UnsupportedFormatError as exc:  # a newer writer's must-understand field
            self.findings.add(key, exc.kind, exc.message)
        except ObjectNotFoundError:
            self.findings.add(key, "vanished", "listed, then not found (deleted meanwhile?)")
        return None

    def name(self, key: str, segment: str) -> str | None:
        """The name a key segment encodes, or None after reporting that it encodes none."""
        try:
            return name_of_segment(segment)
        except ValueError as exc:
            hint = ""
            with contextlib.suppress(S3OpStoreError):
                hint = (f"; if it was written before names were encoded, the name {segment!r} "
                        f"is now stored as {encode_name(segment)!r}")
            self.findings.add(key, "bad_name", f"{exc}{hint}")
            return None

    def classify(self, info: ObjectInfo) -> None:
        if info.key.startswith(EVENTS_PREFIX):
            return self.count("events")  # checked by fsck_log (D16)
        parts = info.key.split("/")
        top = parts[0]
        if top == "ops" and len(parts) >= 3:
            name = self.name(info.key, parts[1])
            if name is None:
                return
            parts[1] = name
            op = self.ops.setdefault(name, OpState())
            kind = parts[2]
            if kind == "head.json" and len(parts) == 3:
                op.head_key = info.key
                return
            if kind == "op.json" and len(parts) == 3:
                op.marker = True
                self.check_marker(parts[1], info.key)
                return
            if kind == "versions" and len(parts) == 5:
                self.check_entry(parts[1], info.key, op)
                return
            if kind == "bytes" and len(parts) == 5:
                op.bindings.append(info.key)
                return
            if kind == "blobs" and len(parts) == 5 and parts[3] == "sha256":
                op.blobs[parts[4]] = info
                return
            if kind == "meta" and len(parts) == 4:
                self.count("version metadata")
                return
            if kind == "uploads" and len(parts) == 4:
                self.count("uncommitted uploads")
                return
            if kind == "intents" and len(parts) == 4 and parts[3].endswith(".json"):
                self.count("waiting writers' intents")  # D18: until their calls end or gc
                return
            if kind == "trash" and len(parts) == 6 and parts[3] == "sha256":
                op.trash.setdefault(parts[4], []).append(info)
                self.count("trash copies")
                return
        elif top == "links" and len(parts) == 4:
            self.links.append(info.key)
            return
        elif top == "pipelines" and len(parts) == 2 and parts[1].endswith(".json"):
            self.pipelines.append(info.key)
            return
        elif top == "aliases" and len(parts) == 4:
            self.aliases.append(info.key)
            return
        elif info.key.startswith(ALIAS_HEADS_PREFIX):
            self.alias_heads.append(info.key)
            return
        elif top == "tags" and len(parts) in (4, 5):
            self.count("tag positions")
            return
        elif top == "status" and len(parts) in (4, 5):
            self.count("status positions")
            return
        elif info.key == FORMAT_KEY:
            return  # read (and its version checked) before the walk, by fsck() itself
        elif top == "_s3opstore":
            self.count("scratch objects")
            return
        self.findings.note(f"unknown key {info.key!r} (not part of the registry layout)")

    def check_marker(self, op: str, key: str) -> None:
        marker = self.read(key, OpMarker)
        if marker is not None and marker.op_name != op:
            self.findings.add(key, "wrong_op", f"op marker names op {marker.op_name!r}")

    def check_entry(self, op: str, key: str, state: OpState) -> None:
        self.count("version entries")
        try:
            from_key = parse_version_entry(op, key)
        except ValueError as exc:
            self.findings.add(key, "bad_key", f"listings skip it, the version it stands for is "
                              f"not listed: {exc}")
            return
        # The key encodes the record readers use; a corrupt body is its own problem.
        state.entries.append((key, from_key))
        manifest = self.read(key, VersionManifest)
        if manifest is None:
            return
        body = manifest.record
        if (body.op_name, body.version.vid, body.number, body.seq) != (
                op, from_key.version.vid, from_key.number, from_key.seq) or (
                body.version.creation_time != from_key.version.creation_time):
            self.findings.add(key, "entry_mismatch",
                              f"key says {from_key.number_text} seq {from_key.seq} "
                              f"{from_key.version}, body says {body.op_name} "
                              f"{body.number_text} seq {body.seq} {body.version}")
