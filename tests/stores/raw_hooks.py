"""Raw hooks of the conformance suite for each backend: the container, past the store.

The memory store's dict, the directory that holds a local store's root
(``<container>/local``), the bucket prefix that holds an S3 store's prefix
(``<container>/store``).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3opstore.stores import LocalStore, MemoryStore, ObjectStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.store_suite import PrefixSuite, StoreSuite
from tests.conftest import SMALL_TRANSFERS


def local_store(tmp_path: Path, **options: Any) -> LocalStore:
    """A local store at ``local/`` of a fresh container, as LocalRaw expects it."""
    return LocalStore(tmp_path / "container" / "local", **options)


class MemoryRaw(StoreSuite):
    """The container is the store's own dict: raw names are keys."""

    def raw_get(self, store: ObjectStore, name: str) -> bytes | None:
        assert isinstance(store, MemoryStore)
        item = store._objects.get(name)
        return None if item is None else item[0]

    def raw_put(self, store: ObjectStore, name: str, data: bytes) -> None:
        assert isinstance(store, MemoryStore)
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        store._objects[name] = (data, etag, datetime.now(UTC), hashlib.sha256(data).hexdigest())

    def raw_list(self, store: ObjectStore) -> list[str]:
        assert isinstance(store, MemoryStore)
        return sorted(store._objects)


class LocalRaw(PrefixSuite):
    """The container is the directory that holds the store's root, ``local/``.

    Raw names are the suite's keys as written: they are lowercase, which the
    case-folded layout stores unescaped too.
    """

    raw_prefix = "local/"

    @staticmethod
    def _container(store: ObjectStore) -> Path:
        assert isinstance(store, LocalStore)
        return store.root.parent

    def raw_get(self, store: ObjectStore, name: str) -> bytes | None:
        path = self._container(store) / name
        return path.read_bytes() if path.is_file() else None

    def raw_put(self, store: ObjectStore, name: str, data: bytes) -> None:
        path = self._container(store) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def raw_list(self, store: ObjectStore) -> list[str]:
        """Every file, minus the store's bookkeeping (``.s3opstore-*`` in its root)."""
        container = self._container(store)
        bookkeeping = f"{self.raw_prefix}.s3opstore-"
        return sorted(name for path in container.rglob("*") if path.is_file()
                      if not (name := path.relative_to(container).as_posix()).startswith(
                          bookkeeping))


class S3Raw(PrefixSuite):
    """The container is ``<unique>/`` in the bucket; the store's prefix is ``<unique>/store``."""

    raw_prefix = "store/"
    paginate_keys = 23  # the fixture lowers the LIST page size to 4

    @staticmethod
    def make(bucket: str, client: Any) -> S3Store:
        store = S3Store(bucket, f"conf/{uuid.uuid4().hex[:12]}/store", client=client,
                        transfer_config=SMALL_TRANSFERS)
        store.page_size = 4  # the continuation loop runs cheaply
        store.delete_page_size = 5  # the batch-delete test's 12 keys take 3 requests
        return store

    @staticmethod
    def _container(store: ObjectStore) -> tuple[S3Store, str]:
        assert isinstance(store, S3Store)
        return store, store.prefix.rsplit("/", 1)[0] + "/"

    def raw_get(self, store: ObjectStore, name: str) -> bytes | None:
        s3, container = self._container(store)
        try:
            response = s3.client.get_object(Bucket=s3.bucket, Key=container + name)
        except s3.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read()

    def raw_put(self, store: ObjectStore, name: str, data: bytes) -> None:
        s3, container = self._container(store)
        s3.client.put_object(Bucket=s3.bucket, Key=container + name, Body=data)

    def raw_list(self, store: ObjectStore) -> list[str]:
        s3, container = self._container(store)
        pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.bucket,
                                                                      Prefix=container)
        return sorted(item["Key"][len(container):] for page in pages
                      for item in page.get("Contents", []))
