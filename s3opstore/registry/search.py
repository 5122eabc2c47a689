"""Finding versions and ops: filters over what the registry already stores.

``search_versions`` walks an op's versions in registration order and keeps
those that pass every filter given:

- ``tags``: each ``key: value`` must be among the version's registration tags
  or its current mutable tags;
- ``metrics``: each :class:`MetricRange` (``auc >= 0.9``) must hold for the
  registration metric of that name (a version without it does not match);
- ``registered_after`` / ``registered_before``: the registration time
  (writer's clock), inclusive / exclusive;
- ``alias``: the version an alias points at now.

Cost: the version listing (1 GET + 1 LIST per 1000), plus per version one GET
for metadata when a tag or metric filter is given and one LIST + GET for
mutable tags when a tag filter is given; 1 LIST + 1 GET for the alias. Pages
are cut by ``limit`` and continue ``after`` a registration sequence number.

``search_ops`` filters op names by a glob (``fnmatch``, case-sensitive) and by
the op's current mutable tags, in name order, continuing ``after`` a name.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Generic, TypeVar

from s3opstore.errors import InvalidInputError
from s3opstore.models.manifests import VersionMetadata, VersionRecord
from s3opstore.registry import aliases as _aliases
from s3opstore.registry import metadata as _metadata
from s3opstore.registry import pipelines as _pipelines
from s3opstore.registry import retire as _retire
from s3opstore.registry import versions as _versions
from s3opstore.registry.context import Context

__all__ = ["MAX_LIMIT", "MetricRange", "Page", "VersionHit", "search_ops", "search_versions"]

MAX_LIMIT = 1000
T = TypeVar("T")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "=": operator.eq}
_METRIC = re.compile(r"^([^<>=]+?)\s*(>=|<=|>|<|=)\s*(\S+)$")


@dataclass(frozen=True)
class MetricRange:
    """``name op value``, e.g. ``MetricRange.parse("auc>=0.9")``."""

    name: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> MetricRange:
        match = _METRIC.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidInputError(
                f"metric filter {text!r} is not NAME OP NUMBER with OP one of >=, <=, >, <, =")
        try:
            value = float(match.group(3))
        except ValueError:
            raise InvalidInputError(f"metric filter {text!r}: {match.group(3)!r} is not a "
                                    "number") from None
        return cls(match.group(1), match.group(2), value)

    def holds(self, metrics: Mapping[str, float]) -> bool:
        return self.name in metrics and _OPS[self.op](metrics[self.name], self.value)


@dataclass(frozen=True)
class VersionHit:
    record: VersionRecord
    metadata: VersionMetadata | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: str | None  # pass as ``after`` for the next page; None: no more


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit {limit!r} is not an integer from 1 to {MAX_LIMIT}")
    return limit


def _aware(moment: datetime | None, what: str) -> datetime | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise InvalidInputError(f"{what} {moment!r} is not a datetime")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def search_versions(ctx: Context, op: str, *, tags: Mapping[str, str] | None = None,
                    metrics: list[MetricRange] | None = None,
                    registered_after: datetime | None = None,
                    registered_before: datetime | None = None, alias: str | None = None,
                    limit: int = 100, after: int | str | None = None) -> Page[VersionHit]:
    limit = _limit(limit)
    wanted_tags = dict(tags or {})
    ranges = list(metrics or [])
    since = _aware(registered_after, "registered_after")
    until = _aware(registered_before, "registered_before")
    if isinstance(after, str) and after.isdigit() and after.isascii():
        after = int(after)
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise InvalidInputError(f"after {after!r} is not a registration sequence number")
    target = None if alias is None else _aliases.get_alias(ctx, op, alias).version
    hits: list[VersionHit] = []
    for record in _versions.get_versions(ctx, op):
        if after is not None and record.seq <= after:
            continue
        if target is not None and record.version != target:
            continue
        if since is not None and record.registered_at < since:
            continue
        if until is not None and record.registered_at >= until:
            continue
        meta = None
        if wanted_tags or ranges:
            meta = _metadata.get_metadata(ctx, op, record.version)
            if ranges and (meta is None or not all(r.holds(meta.metrics) for r in ranges)):
                continue
        current: dict[str, str] = {}
        if wanted_tags:
            current = _metadata.get_tags(ctx, op, record.version)
            known = {**(meta.tags if meta is not None else {}), **current}
            if any(known.get(key) != value for key, value in wanted_tags.items()):
                continue
        if len(hits) == limit:
            return Page(hits, str(hits[-1].record.seq))
        hits.append(VersionHit(record, meta, current))
    return Page(hits, None)


def search_ops(ctx: Context, pattern: str = "*", *, tags: Mapping[str, str] | None = None,
               limit: int = 100, after: str | None = None,
               include_hidden: bool = False) -> Page[str]:
    limit = _limit(limit)
    hidden = set() if include_hidden else _retire.hidden_ops(ctx)
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInputError(f"op name pattern {pattern!r} is not a non-empty string")
    wanted = dict(tags or {})
    names: list[str] = []
    for name in _pipelines.list_ops(ctx):
        if after is not None and name <= after:
            continue
        if name in hidden or not fnmatchcase(name, pattern):
            continue
        if wanted:
            current = _metadata.get_tags(ctx, name, None)
            if any(current.get(key) != value for key, value in wanted.items()):
                continue
        if len(names) == limit:
            return Page(names, names[-1])
        names.append(name)
    return Page(names, None)
