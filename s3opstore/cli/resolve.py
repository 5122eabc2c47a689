"""The CLI's name for pipeline resolution, which lives in the registry.

Kept so ``from s3opstore.cli.resolve import resolve_pipeline`` still works;
the registry's :meth:`OpStore.resolve_pipeline` is the implementation.
"""

from __future__ import annotations

from s3opstore.registry.opstore import OpStore
from s3opstore.registry.resolution import MissingLink, OpResolution, PipelineResolution

__all__ = ["MissingLink", "OpResolution", "PipelineResolution", "resolve_pipeline"]


def resolve_pipeline(store: OpStore, pipeline_name: str) -> PipelineResolution:
    """Resolve every op of a registered pipeline (raises PipelineNotFoundError)."""
    return store.resolve_pipeline(pipeline_name)
