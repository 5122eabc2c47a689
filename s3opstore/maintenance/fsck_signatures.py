"""fsck's signature check (design.md, D15): every byte binding against the trusted keys.

Run only when fsck is given an OpStore with trusted keys (``fsck
--trusted-keys FILE``). Each binding must carry a signature by a trusted key
over its own op, version, digest and size, made for the version's registered
number and record; anything else is an ``untrusted_bytes`` problem naming the
binding's key, exactly what a loader with the same keys would refuse.
"""

from __future__ import annotations

from typing import Protocol

from s3opstore.errors import UntrustedBytesError
from s3opstore.models.manifests import BytesBinding, VersionRecord
from s3opstore.trust.verify import Verifier

__all__ = ["Report", "check_signature"]


class Report(Protocol):
    """What this check needs of fsck's report: counters and problems."""

    counts: dict[str, int]

    def add(self, key: str, kind: str, message: str) -> None: ...


def check_signature(report: Report, key: str, binding: BytesBinding,
                    record: VersionRecord | None, verifier: Verifier) -> None:
    """Count a verified signature, or add an ``untrusted_bytes`` problem for ``key``."""
    try:
        verifier.check_binding(binding, record)
    except UntrustedBytesError as exc:
        report.add(key, exc.kind, exc.message)
        return
    report.counts["signatures verified"] = report.counts.get("signatures verified", 0) + 1
