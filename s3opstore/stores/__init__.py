"""Object-store primitives: the protocol, its backends, and wrappers.

``open_store(url)`` maps a URL to a backend:

- ``s3://bucket[/prefix]``: :class:`S3Store` (boto3's default credential chain;
  ``AWS_ENDPOINT_URL`` points it at SeaweedFS, MinIO or moto server). S3 directory
  buckets (``...--x-s3``) are refused with UnsupportedStoreError: they list unordered;
- ``file:///path`` or a plain path: :class:`LocalStore`;
- ``memory://``: a fresh :class:`MemoryStore` (tests).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from s3opstore.errors import InvalidInputError
from s3opstore.stores.base import GetResult, IfMatch, ObjectInfo, ObjectStore, PutMode, check_key
from s3opstore.stores.local import LocalStore
from s3opstore.stores.memory import MemoryStore

if TYPE_CHECKING:
    from s3opstore.stores.s3 import S3Store

__all__ = [
    "GetResult",
    "IfMatch",
    "LocalStore",
    "MemoryStore",
    "ObjectInfo",
    "ObjectStore",
    "PutMode",
    "S3Store",
    "check_key",
    "open_store",
]


_BUCKET = re.compile(r"^[A-Za-z0-9._-]{3,255}$")  # botocore's own rule, minus ARNs


def open_store(url: str, *, client: Any = None) -> ObjectStore:
    """Open the store a URL names; ``client`` is an optional boto3 S3 client."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        from s3opstore.stores.s3 import S3Store

        if not parsed.netloc:
            raise InvalidInputError(f"store URL {url!r} names no bucket")
        if not _BUCKET.match(parsed.netloc):
            raise InvalidInputError(
                f"store URL {url!r}: {parsed.netloc!r} is not a bucket name (3-255 letters, "
                "digits, '.', '-' or '_'; buckets created today: 3-63 lower-case letters, "
                "digits, '.' and '-')")
        prefix = unquote(parsed.path).strip("/")
        if len(prefix) > 300:
            raise InvalidInputError(f"store URL {url!r}: prefix longer than 300 characters")
        if prefix:
            check_key(prefix)
        return S3Store(parsed.netloc, prefix, client=client)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInputError(f"store URL {url!r}: file URLs must be local")
        return LocalStore(unquote(parsed.path))
    if parsed.scheme == "memory":
        return MemoryStore()
    if parsed.scheme == "" and url:
        return LocalStore(url)
    raise InvalidInputError(f"unsupported store URL {url!r}: use s3://, file:// or memory://")


def __getattr__(name: str) -> Any:
    # S3Store is imported lazily so that opening a local store never imports boto3.
    if name == "S3Store":
        from s3opstore.stores.s3 import S3Store

        return S3Store
    raise AttributeError(name)
