"""The registry: ops, versions, bytes, links, pipelines and aliases over a store.

``OpStore`` is the entry point; ``commit`` holds the only conditional-write
and retry logic; the other modules are plain business rules per entity.
"""

from s3opstore.registry.blobs import OpBytes
from s3opstore.registry.commit import RetryPolicy
from s3opstore.registry.opstore import OpStore

__all__ = ["OpBytes", "OpStore", "RetryPolicy"]
