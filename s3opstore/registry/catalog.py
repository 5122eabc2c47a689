"""OpStore's catalog half: references, metadata and tags, retirement, search, browsing.

These read (or annotate) what the core half of :class:`~s3opstore.registry.opstore.OpStore`
registers and saves; they live here so each module stays small enough to read whole. Use
them through ``OpStore``, which inherits them; this class is not a public name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from s3opstore.models.manifests import (
    StatusManifest,
    TagsManifest,
    VersionMetadata,
    VersionRecord,
)
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from s3opstore.registry import aliases as _aliases
from s3opstore.registry import browsing as _browsing
from s3opstore.registry import metadata as _metadata
from s3opstore.registry import refs as _refs
from s3opstore.registry import retire as _retire
from s3opstore.registry import search as _search
from s3opstore.registry import versions as _versions
from s3opstore.registry.arguments import as_version, idempotency
from s3opstore.registry.context import Context
from s3opstore.registry.resolution import PipelineResolution, resolve_pipeline
from s3opstore.registry.search import MetricRange, Page, VersionHit

__all__ = ["Catalog"]


class Catalog:
    """The reading and annotating methods of :class:`~s3opstore.registry.opstore.OpStore`."""

    _ctx: Context

    def resolve(self, op_name: str,
                ref: Version | str | _aliases.Unset = _aliases.UNSET) -> VersionRecord:
        """The record a reference names: ``latest`` (the default), a number ``1.2.0``,
        a version string, an alias, or a unique version id prefix (``3f2a1b9c``, or the
        short form tables print). ``op_name`` may carry the ref itself: ``"pca@production"``.

        Rules and their order: :mod:`s3opstore.registry.refs`.
        """
        if isinstance(ref, _aliases.Unset):
            op_name, text = _refs.split_op_ref(op_name, _refs.LATEST)
            ref = _refs.LATEST if text is None else text
        return _refs.resolve_ref(self._ctx, check_name(op_name), ref)

    def get_metadata(self, op_name: str, ref: Version | str = "latest") -> VersionMetadata | None:
        """The registration metadata of the version ``ref`` names (None: registered without)."""
        record = self.resolve(op_name, ref)
        return _metadata.get_metadata(self._ctx, record.op_name, record.version)

    def set_tags(self, op_name: str, tags: Mapping[str, str] | None = None, *,
                 unset: Iterable[str] = (), version: Version | str | None = None,
                 idempotency_key: str | None = None) -> TagsManifest:
        """Change the mutable tags of the op (``version`` None) or of a version (any ref).

        Every change is kept: :meth:`tag_history`.
        """
        op = check_name(op_name)
        target = None if version is None else self.resolve(op, version).version
        return _metadata.set_tags(self._ctx, op, target, tags or {}, unset,
                                  idempotency(idempotency_key))

    def get_tags(self, op_name: str, version: Version | str | None = None) -> dict[str, str]:
        op = check_name(op_name)
        target = None if version is None else self.resolve(op, version).version
        return _metadata.get_tags(self._ctx, op, target)

    def tag_history(self, op_name: str,
                    version: Version | str | None = None) -> list[TagsManifest]:
        op = check_name(op_name)
        target = None if version is None else self.resolve(op, version).version
        return _metadata.tag_history(self._ctx, op, target)

    # -- retirement without deletion ------------------------------------------------------------
    def set_version_status(self, op_name: str, ref: Version | str, state: str, *,
                           reason: str | None = None,
                           idempotency_key: str | None = None) -> StatusManifest:
        """``active``, ``deprecated`` (loads warn) or ``archived`` (loads refuse by default).

        Nothing is deleted; every change is kept (:meth:`status_history`).
        """
        op = check_name(op_name)
        record = self.resolve(op, ref)
        return _retire.set_status(self._ctx, op, record.version, state, reason,
                                  idempotency(idempotency_key))

    def hide_op(self, op_name: str, *, hidden: bool = True, reason: str | None = None,
                idempotency_key: str | None = None) -> StatusManifest:
        """Leave an op out of listings (``hidden=False`` shows it again); it stays readable."""
        return _retire.set_status(self._ctx, check_name(op_name), None,
                                  "hidden" if hidden else "active", reason,
                                  idempotency(idempotency_key))

    def status(self, op_name: str, ref: Version | str | None = None) -> StatusManifest | None:
        """The op's (``ref`` None) or a version's current status; None: never changed."""
        op = check_name(op_name)
        version = None if ref is None else self.resolve(op, ref).version
        return _retire.status(self._ctx, op, version)

    def status_history(self, op_name: str,
                       ref: Version | str | None = None) -> list[StatusManifest]:
        op = check_name(op_name)
        version = None if ref is None else self.resolve(op, ref).version
        return _retire.status_history(self._ctx, op, version)

    def check_loadable(self, op_name: str, version: Version | str, *,
                       allow_archived: bool = False) -> StatusManifest | None:
        """Warn (RetiredVersionWarning) for a deprecated version; raise RetiredVersionError
        for an archived one unless ``allow_archived`` (1 LIST, + 1 GET when retired)."""
        return _retire.check_loadable(self._ctx, check_name(op_name), as_version(version),
                                      allow_archived=allow_archived)

    # -- search ------------------------------------------------------------------------------
    def search_versions(self, op_name: str, *, tags: Mapping[str, str] | None = None,
                        metrics: Iterable[MetricRange | str] = (),
                        registered_after: datetime | None = None,
                        registered_before: datetime | None = None, alias: str | None = None,
                        limit: int = 100, after: int | str | None = None) -> Page[VersionHit]:
        """Versions of an op passing every filter given, in registration order, one page.

        ``metrics`` are ranges like ``"auc>=0.9"``; ``after`` continues from a page's
        ``next_after``. Filters and costs: :mod:`s3opstore.registry.search`.
        """
        ranges = [m if isinstance(m, MetricRange) else MetricRange.parse(m) for m in metrics]
        return _search.search_versions(
            self._ctx, check_name(op_name), tags=tags, metrics=ranges,
            registered_after=registered_after, registered_before=registered_before,
            alias=None if alias is None else check_name(alias, "alias"), limit=limit,
            after=after)

    def search_ops(self, pattern: str = "*", *, tags: Mapping[str, str] | None = None,
                   limit: int = 100, after: str | None = None,
                   include_hidden: bool = False) -> Page[str]:
        """Op names matching a glob and the op's mutable tags, in name order, one page."""
        return _search.search_ops(self._ctx, pattern, tags=tags, limit=limit, after=after,
                                  include_hidden=include_hidden)

    # -- pipeline resolution ---------------------------------------------------------------
    # -- listings by key (the web UI's paging and lineage) ----------------------------
    def version_entry_keys(self, op_name: str) -> tuple[dict[int, str], list[str]]:
        """seq -> listing-entry key of every listed version of the op, and foreign keys."""
        return _browsing.version_entry_keys(self._ctx, check_name(op_name))

    def held_versions(self, op_name: str) -> list[VersionRecord]:
        """The versions the op's head holds, newest first: its latest and the one before,
        which may not be listed yet (design.md, D2). 1 GET."""
        return _versions.held_versions(self._ctx, check_name(op_name))

    def listed_version_by_id(self, op_name: str, vid: str) -> VersionRecord | None:
        """The listed record of the version with id ``vid``; None if unlisted (or held by
        the head: :meth:`held_versions`)."""
        return _browsing.entry_of_vid(self._ctx, check_name(op_name), vid)

    def link_downstreams(self) -> list[str]:
        """Every op that validated links point to."""
        return _browsing.link_downstreams(self._ctx)

    def link_upstreams(self, downstream: str) -> list[str]:
        """The ops with validated links for ``downstream``."""
        return _browsing.link_upstreams(self._ctx, check_name(downstream))

    def resolve_pipeline(self, pipeline_name: str) -> PipelineResolution:
        """Which version of each op the pipeline would load, or which link is missing."""
        return resolve_pipeline(self._ctx, check_name(pipeline_name, "pipeline name"))
