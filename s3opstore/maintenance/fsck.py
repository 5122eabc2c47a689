"""Consistency check of a whole store; read-only.

One LIST of the prefix, then every manifest is read and checked:

- every manifest parses (a :class:`CorruptManifestError` names its key);
- a version listing entry's key encodes the same record as its body, and it
  sits under its own op and vid; an entry or link key that does not parse is
  a ``bad_key`` problem (listings skip such keys, so fsck is where they show);
- each op's head parses, names its op, and its latest version is not also
  listed with a different seq;
- the seq numbers of an op are dense ``0..N-1``, one version per seq and one
  seq per version;
- numbering is consistent: ``1.0.0`` first, then
  :func:`~s3opstore.registry.versions.next_number` along the seq order;
- every byte binding names its op and a registered version, and its blob
  exists with the bound size (``deep``: and re-hashes to the bound digest);
- links and aliases reference registered versions (links with the version's
  registered creation time); pipelines parse and their last op is known.

Every problem names the key it is about; :attr:`FsckReport.ok` is True when
there is none. Unknown keys are reported as notes, not problems. Fields a
newer writer added as optional are not problems either (design.md, D13); a
store whose root manifest is newer than this release is refused before the
walk, and a manifest needing a field this release does not know is an
``unsupported_format`` problem, not a corrupt one.

Layout: the walk sorts every key (``fsck_walk``), then each function in
:data:`CHECKS` looks at what it found and adds to the findings
(``fsck_checks``: manifests; ``fsck_blobs``: bytes); a new check is one more
function of ``(context, findings)`` in that list. The report is frozen at the
end (``fsck_report``).
"""

from __future__ import annotations

from collections.abc import Callable

from s3opstore.errors import S3OpStoreError
from s3opstore.maintenance.alias_heads_check import check_alias_heads
from s3opstore.maintenance.fsck_blobs import check_bindings
from s3opstore.maintenance.fsck_checks import (
    check_aliases,
    check_links,
    check_ops,
    check_pipelines,
    note_local_scratch,
)
from s3opstore.maintenance.fsck_log import check_history
from s3opstore.maintenance.fsck_report import Findings, FsckReport, Problem
from s3opstore.maintenance.fsck_walk import FsckContext, ProgressFn
from s3opstore.registry.format import read_format
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.base import ObjectStore

__all__ = ["CHECKS", "Check", "FsckReport", "Problem", "fsck"]

#: one check: reads what the walk found (the context), adds to the findings
Check = Callable[[FsckContext, Findings], None]


def _check_history(ctx: FsckContext, findings: Findings) -> None:
    check_history(ctx.store, findings.add)  # the event chains (D16): maintenance/fsck_log.py


#: run in this order after the walk; the op check comes first (it registers versions)
CHECKS: list[Check] = [
    check_ops,
    check_bindings,
    check_links,
    check_aliases,
    check_alias_heads,
    check_pipelines,
    _check_history,
    note_local_scratch,
]


def fsck(opstore: OpStore | ObjectStore, *, deep: bool = False,
         progress: ProgressFn | None = None) -> FsckReport:
    """Check the whole store; never writes. ``deep`` re-hashes every blob.

    An OpStore with trusted keys also has every binding's signature checked
    (maintenance/fsck_signatures.py).
    """
    store = opstore.store if isinstance(opstore, OpStore) else opstore
    findings = Findings(deep=deep)
    ctx = FsckContext(store, findings, progress)
    ctx.verifier = opstore.verifier if isinstance(opstore, OpStore) else None
    try:
        read_format(store)  # a newer format is refused, not reported as damage (D13)
        ctx.walk()
        for check in CHECKS:
            check(ctx, findings)
    except S3OpStoreError as exc:
        findings.add("", exc.kind, f"fsck could not finish: {exc.message}")
    if progress is not None:
        progress(1, 1)
    return findings.report()
