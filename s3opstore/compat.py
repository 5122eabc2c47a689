"""A drop-in for Chariots' ``OpStoreClient``, backed by an :class:`OpStore`.

Same seven methods, same argument shapes (an op is any object with a
``.name``; a pipeline has ``.name`` and ``get_all_op_links()``), same answers:
``None`` when nothing exists, sets of :class:`Version` otherwise.
"""

from __future__ import annotations

from typing import Any, Protocol

from s3opstore.errors import InvalidInputError
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

__all__ = ["S3OpStoreClient"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Pipeline(Protocol):
    @property
    def name(self) -> str: ...

    def get_all_op_links(self) -> Any: ...


def _last_op_name(pipeline: _Pipeline) -> str:
    """The upstream op of the link whose downstream is None, as Chariots finds it."""
    for upstream, downstream in pipeline.get_all_op_links():
        if downstream is None:
            name = getattr(upstream, "name", None)
            if not isinstance(name, str):
                raise InvalidInputError(
                    f"the last op of pipeline {pipeline.name!r} has no string .name")
            return name
    raise InvalidInputError(f"cannot find the last op of pipeline {pipeline.name!r}: no link "
                            "has a None downstream")


class S3OpStoreClient:
    def __init__(self, store: OpStore | str | None = None) -> None:
        self.store = store if isinstance(store, OpStore) else OpStore.from_url(store)

    def get_all_versions_of_op(self, desired_op: _Named) -> set[Version] | None:
        versions = {record.version for record in self.store.get_versions(desired_op.name)}
        return versions or None

    def get_validated_links(self, downstream_op_name: str,
                            upstream_op_name: str) -> set[Version] | None:
        return self.store.get_validated_links(downstream_op_name, upstream_op_name) or None

    def get_op_bytes_for_version(self, desired_op: _Named, version: Version) -> bytes:
        return self.store.load_op_bytes(desired_op.name, version)

    def save_op_bytes(self, op_to_save: _Named, version: Version, op_bytes: bytes) -> None:
        self.store.save_op_bytes(op_to_save.name, version, op_bytes)

    def register_valid_link(self, downstream_op_name: str | None, upstream_op_name: str,
                            upstream_op_version: Version) -> None:
        self.store.register_valid_link(downstream_op_name, upstream_op_name, upstream_op_version)

    def pipeline_exists(self, pipeline_name: str) -> bool:
        return self.store.pipeline_exists(pipeline_name)

    def register_new_pipeline(self, pipeline: _Pipeline) -> None:
        self.store.register_pipeline(pipeline.name, _last_op_name(pipeline))
