"""The base of every report the registry and maintenance hand back (fsck, gc, import,
pipeline resolution): a frozen pydantic model whose JSON is ``model_dump``.

One serializer means the CLI's ``--json``, the HTTP API and the Python objects
cannot drift apart, and a report, once returned, is not changed behind its
reader's back. Reports are built from finished findings (each module gathers
them first), never filled in place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Report"]


class Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the CLI prints: fields by their serialization names."""
        return self.model_dump(mode="json", by_alias=True)
