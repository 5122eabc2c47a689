"""fsck's byte checks: every binding's blob is there with its size (deep: its digest).

A binding names its op and a registered version, its key's seq matches its
body, and its blob exists with the bound size; a blob set aside by gc (in the
trash) while bound is a note, since readers load the copy and the next gc
puts it back. ``deep`` re-hashes every blob against its name.
"""

from __future__ import annotations

import hashlib

from s3opstore.errors import ObjectNotFoundError
from s3opstore.maintenance.fsck_report import Findings
from s3opstore.maintenance.fsck_signatures import check_signature
from s3opstore.maintenance.fsck_walk import FsckContext, OpState
from s3opstore.models.keys import blob_key, parse_inverted
from s3opstore.models.manifests import BytesBinding

__all__ = ["check_bindings"]


def check_bindings(ctx: FsckContext, report: Findings) -> None:
    """Every op's byte bindings and blobs (after the op check registered its versions)."""
    ops = sorted(ctx.ops)
    for index, op in enumerate(ops):
        _check_op_bindings(ctx, report, op, ctx.ops[op])
        if ctx.progress is not None:
            ctx.progress(len(ops) + index + 1, 2 * len(ops) + 1)


def _check_op_bindings(ctx: FsckContext, report: Findings, op: str, state: OpState) -> None:
    for key in state.bindings:
        report.count("byte bindings")
        binding = ctx.read(key, BytesBinding)
        if binding is None:
            continue
        vid = key.split("/")[3]
        if binding.op_name != op or binding.version.vid != vid:
            report.add(key, "wrong_op",
                       f"binding names {binding.op_name} {binding.version.vid}")
        try:
            if parse_inverted(key.rsplit("/", 1)[1]) != binding.seq:
                report.add(key, "bad_seq", f"key and body seq {binding.seq} differ")
        except ValueError:
            report.add(key, "bad_key", "not a byte binding key")
        if vid not in ctx.registered.get(op, {}):
            report.add(key, "unregistered_version",
                       f"bytes bound to version {vid} which is not registered")
        if ctx.verifier is not None:  # fsck --trusted-keys (D15)
            check_signature(report, key, binding, ctx.registered.get(op, {}).get(vid),
                            ctx.verifier)
        blob = state.blobs.get(binding.sha256)
        where = blob_key(op, binding.sha256)
        aside = [i for i in state.trash.get(binding.sha256, []) if i.size == binding.size]
        if blob is None and aside:
            # gc set it aside and a binding came (or gc died before putting it back):
            # readers load the copy, and the next gc run restores the blob.
            report.note(f"blob {where} is in the trash ({aside[0].key}) while "
                        f"{key} binds it; `s3opstore gc` puts it back")
        elif blob is None:
            report.add(key, "missing_blob", f"its blob {where} is missing")
        elif blob.size != binding.size:
            report.add(key, "blob_size",
                       f"blob {where} has {blob.size} bytes, bound size {binding.size}")
    report.count("blobs", len(state.blobs))
    if ctx.deep:
        for digest, info in state.blobs.items():
            _rehash(ctx, report, info.key, digest)


def _rehash(ctx: FsckContext, report: Findings, key: str, digest: str) -> None:
    hasher = _Hasher()
    try:
        ctx.store.download(key, hasher)  # type: ignore[arg-type]
    except ObjectNotFoundError:
        report.add(key, "vanished", "listed, then not found (deleted meanwhile?)")
        return
    report.count("blobs re-hashed")
    if hasher.hexdigest() != digest:
        report.add(key, "blob_digest",
                   f"content hashes to sha256 {hasher.hexdigest()}, not its name")


class _Hasher:
    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
