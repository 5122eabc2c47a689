"""Maintenance of a store: garbage collection, consistency checks, migration.

- :func:`s3opstore.maintenance.gc.collect_garbage`: delete blobs no byte
  binding references, and scratch leftovers, older than a grace period
  measured on the store's clock; never a manifest.
- :func:`s3opstore.maintenance.fsck.fsck`: check every manifest and
  reference, returning a structured report (``report.ok``).
- :func:`s3opstore.maintenance.import_chariots.import_chariots`: migrate a
  Chariots OpStore (SQLite database + FileSaver directory), resumably.

Layering: these modules use the registry, the models and the store protocol;
they never import boto3 or botocore. The names below are the public ones
(README, "Public API"); each report is a frozen pydantic model.
"""

from s3opstore.maintenance.fsck import FsckReport, fsck
from s3opstore.maintenance.gc import GcReport, collect_garbage
from s3opstore.maintenance.import_chariots import ImportReport, import_chariots

__all__ = ["FsckReport", "GcReport", "ImportReport", "collect_garbage", "fsck", "import_chariots"]
