"""Manifest and version models, the key layout, and the canonical codec.

Pure data: nothing in this package performs I/O.
"""

from s3opstore.models.manifests import VersionNumber, VersionRecord
from s3opstore.models.names import check_name
from s3opstore.models.version import EMPTY_DIGEST, Version

__all__ = ["EMPTY_DIGEST", "Version", "VersionNumber", "VersionRecord", "check_name"]
