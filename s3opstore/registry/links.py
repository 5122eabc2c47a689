"""Validated links: "version V of upstream op U is valid input for downstream op D".

One create-only object per (D, U, V) whose key encodes V with its first
registered creation time, so the same link registered twice is one object and
``get_validated_links`` is answered by LIST alone; a key that does not parse
is skipped and reported (:mod:`s3opstore.registry.listing`).
"""

from __future__ import annotations

from s3opstore.models.keys import link_key, link_prefix, parse_link_key
from s3opstore.models.manifests import LinkManifest, VersionRecord, utc_now_ms
from s3opstore.models.version import Version
from s3opstore.registry import logged
from s3opstore.registry.commit import new_token
from s3opstore.registry.context import Context
from s3opstore.registry.events import Subject
from s3opstore.registry.listing import Listing, SkippedKey, skipped_key
from s3opstore.registry.versions import register_version

__all__ = ["get_validated_links", "list_validated_links", "register_valid_link"]


def register_valid_link(ctx: Context, downstream: str | None, upstream: str, version: Version,
                        idempotency_key: str | None = None) -> VersionRecord:
    """Register ``version`` of ``upstream`` if needed, then the link (unless D is None)."""
    record = register_version(ctx, upstream, version, idempotency_key)
    if downstream is None:
        return record
    canonical = record.version  # the first registered creation time, byte for byte
    identity = ctx.identity
    manifest = LinkManifest(
        downstream_op_name=downstream, upstream_op_name=upstream, upstream_version=canonical,
        token=new_token(idempotency_key, scope=f"link\0{downstream}\0{upstream}\0{canonical.vid}"),
        registered_at=utc_now_ms(), registered_host=identity.host, registered_pid=identity.pid)
    # logged in the chain of the upstream version (its op's chain in a format-1 store): not
    # the downstream op's, where every upstream validated for it would meet, nor the
    # upstream op's, where every link of a contended op queued behind the others (D16)
    logged.create(ctx, Subject("link.register", upstream, canonical.vid, downstream),
                  link_key(downstream, upstream, canonical), manifest)
    return record


def list_validated_links(ctx: Context, downstream: str,
                         upstream: str) -> Listing[set[Version]]:
    """The linked versions, and the link keys that did not parse (skipped, not fatal)."""
    found: set[Version] = set()
    skipped: list[SkippedKey] = []
    for info in ctx.store.list(link_prefix(downstream, upstream)):
        try:
            found.add(parse_link_key(info.key))
        except ValueError as exc:
            skipped.append(skipped_key(info.key, exc))
    return Listing(found, tuple(skipped))


def get_validated_links(ctx: Context, downstream: str, upstream: str) -> set[Version]:
    return list_validated_links(ctx, downstream, upstream).items
