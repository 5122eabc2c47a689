"""s3opstore: a registry for ML ops that lives entirely in an S3 bucket.

The Chariots OpStore without a database or a server: JSON manifests and
content-addressed blobs under a bucket prefix, made safe for many concurrent
writers by S3 conditional writes.

    >>> from s3opstore import OpStore, Version
    >>> store = OpStore.from_url("memory://")
    >>> record = store.register_version("scaler", Version.from_parts(major=b"v1"))
    >>> record.number
    (1, 0, 0)
"""

from s3opstore import errors
from s3opstore.compat import S3OpStoreClient
from s3opstore.errors import S3OpStoreError
from s3opstore.models.manifests import VersionRecord
from s3opstore.models.version import Version
from s3opstore.registry.aliases import UNSET, Unset
from s3opstore.registry.blobs import OpBytes
from s3opstore.registry.cache import CachedLoader
from s3opstore.registry.commit import RetryPolicy
from s3opstore.registry.opstore import OpStore

__all__ = [  # noqa: RUF022 (plain sorted(), as tests/test_architecture.py pins it)
    "CachedLoader",
    "OpBytes",
    "OpStore",
    "RetryPolicy",
    "S3OpStoreClient",
    "S3OpStoreError",
    "UNSET",
    "Unset",
    "Version",
    "VersionRecord",
    "errors",
]

__version__ = "0.1.0"
