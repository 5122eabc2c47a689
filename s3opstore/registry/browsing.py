"""Listings by key, for pages that must not read every manifest: the web UI's.

An op page with 10,000 versions is served from LIST pages alone (a version
entry's key encodes its record, models/keys.py), and the lineage graph from
directory listings of ``links/``. These reads belong in the registry, like
every other, so a face never calls store primitives and every read passes the
store's format check (``Context.store``, design.md D13).
"""

from __future__ import annotations

from s3opstore.models.keys import (
    LINKS_PREFIX,
    decode_names,
    parse_version_entry,
    upstreams_prefix,
    version_dir_of_vid,
    versions_prefix,
)
from s3opstore.models.manifests import VersionRecord
from s3opstore.registry.context import Context

__all__ = ["entry_of_vid", "link_downstreams", "link_upstreams", "version_entry_keys"]


def version_entry_keys(ctx: Context, op: str) -> tuple[dict[int, str], list[str]]:
    """seq -> entry key of every listed version, and the listed keys that are no entry."""
    keys: dict[int, str] = {}
    skipped: list[str] = []
    for info in ctx.store.list(versions_prefix(op)):
        name = info.key.rpartition("/")[2]
        if len(name) > 21 and name[:20].isdigit() and name[20] == "_":
            keys.setdefault(int(name[:20]), info.key)
        else:
            skipped.append(info.key)
    return keys, skipped


def entry_of_vid(ctx: Context, op: str, vid: str) -> VersionRecord | None:
    """The listed record of the version with id ``vid`` (any creation time), or None.

    None also when the entry's key does not parse (readers skip such keys) or when
    the version is the latest, whose record is in the head rather than listed.
    """
    for info in ctx.store.list(version_dir_of_vid(op, vid), limit=1):
        try:
            return parse_version_entry(op, info.key)
        except ValueError:
            return None
    return None


def link_downstreams(ctx: Context) -> list[str]:
    """Every op with validated links to it from upstream ops."""
    return decode_names(ctx.store.list_dirs(LINKS_PREFIX))


def link_upstreams(ctx: Context, downstream: str) -> list[str]:
    """The upstream ops with validated links for ``downstream``."""
    return decode_names(ctx.store.list_dirs(upstreams_prefix(downstream)))
