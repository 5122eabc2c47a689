"""Read routes for browsing the registry: what the web UI (``/ui/``) shows.

Each answers one page of the UI in one request, so the browser never fans out
into hundreds of calls:

- ``browse_ops``: every op with its latest version, count and aliases, and the
  pipelines (1 GET + 1 LIST per op, 1 GET per pipeline);
- ``browse_op``: one page of an op's versions, newest first, with the bytes
  saved for each, and its aliases with their history. The versions come from
  the registry's listing (LIST pages of 1000 keys: 10 for 10,000 versions,
  kept while the op's head does not move); only the page's entries are parsed
  and only its rows cost more requests;
- ``browse_version``: everything about one version;
- ``lineage``: the graph of validated links (all of it, around an op, or the
  ops a pipeline reaches), with the linked versions on the edges;
- ``browse_pipeline``: what ``s3opstore resolve`` would load, or the missing link.

These routes never write. Their request and response models live in
``browse_models.py``.
"""

from __future__ import annotations

import shlex
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from s3opstore.api.browse_models import (
    MAX_EDGE_VERSIONS,
    AliasHistoryEntry,
    AliasState,
    BrowseOpRequest,
    BrowseOpResponse,
    BrowseOpsRequest,
    BrowseOpsResponse,
    BrowsePipelineRequest,
    BrowsePipelineResponse,
    BrowseVersionRequest,
    BrowseVersionResponse,
    BytesInfo,
    LineageEdge,
    LineageNode,
    LineageRequest,
    LineageResponse,
    LinkedOp,
    OpSummary,
    PipelineSummary,
    ResolvedOp,
    UnresolvedLink,
    VersionRow,
)
from s3opstore.api.models import VersionInfo
from s3opstore.api.types import Call
from s3opstore.errors import BytesNotFoundError, OpNotFoundError, UntrustedBytesError
from s3opstore.models.keys import (
    parse_version_entry,
)
from s3opstore.models.manifests import AliasManifest, VersionRecord
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore

__all__ = [  # the request and response models are in browse_models.py
    "browse_op",
    "browse_ops",
    "browse_pipeline",
    "browse_version",
    "lineage",
]

_FAN_OUT = 8  # concurrent store reads for one page
_LISTINGS_KEPT = 16  # ops whose version listing browse_op keeps (see _entry_keys)
_LISTINGS: OrderedDict[tuple[str, str], tuple[tuple[int, str, datetime],
                                              tuple[dict[int, str], list[int], list[str]]]] = (
    OrderedDict())
_LISTINGS_LOCK = threading.Lock()


# -- helpers -----------------------------------------------------------------------
def _bytes(store: OpStore, op: str, version: Version) -> BytesInfo | None:
    try:
        info = store.op_bytes_info(op, version, verify=False)  # shown, not handed out
    except BytesNotFoundError:
        return None
    trusted = None
    if store.verifier is not None:
        try:
            store.verifier.check(op, info.version, info.sha256, info.size, info.signature)
            trusted = True
        except UntrustedBytesError:
            trusted = False
    return BytesInfo(sha256=info.sha256, size=info.size, signed_by=info.signer, trusted=trusted)


def _parallel(func: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    if len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(_FAN_OUT, len(items))) as pool:
        return list(pool.map(func, items))


def _alias_histories(store: OpStore, op: str) -> dict[str, list[AliasManifest]]:
    """Each alias of ``op`` and every position it took, newest first."""
    names = store.list_aliases(op)
    histories = _parallel(lambda alias: store.alias_history(op, alias)[::-1], names)
    return {alias: history for alias, history in zip(names, histories, strict=True) if history}


def _on(histories: dict[str, list[AliasManifest]], version: Version) -> list[str]:
    """The aliases pointing at ``version`` now."""
    return sorted(alias for alias, history in histories.items()
                  if history[0].version.vid == version.vid)


def _record(store: OpStore, op: str, vid: str) -> VersionRecord | None:
    """The registered record of the version with id ``vid`` (any creation time), or None."""
    listed = store.listed_version_by_id(op, vid)
    if listed is not None:
        return listed
    return next((r for r in store.held_versions(op) if r.version.vid == vid), None)


def _linked_records(store: OpStore, downstream: str, upstream: str) -> list[VersionRecord]:
    """The registered versions of ``upstream`` validated for ``downstream``, oldest first."""
    vids = sorted({v.vid for v in store.get_validated_links(downstream, upstream)})
    found = _parallel(lambda vid: _record(store, upstream, vid), vids)
    return sorted((r for r in found if r is not None), key=lambda r: r.seq)


def _edges(store: OpStore) -> dict[tuple[str, str], None]:
    """Every (upstream, downstream) pair with a link directory, in a stable order."""
    found: dict[tuple[str, str], None] = {}
    downstreams = store.link_downstreams()
    ups = _parallel(store.link_upstreams, downstreams)
    for downstream, upstreams in zip(downstreams, ups, strict=True):
        for upstream in upstreams:
            found[(upstream, downstream)] = None
    return found


# -- routes ------------------------------------------------------------------------
def browse_ops(store: OpStore, req: BrowseOpsRequest, call: Call) -> BrowseOpsResponse:
    def summary(op: str) -> OpSummary:
        latest = store.latest_version(op)
        return OpSummary(op_name=op, latest=None if latest is None else VersionInfo.of(latest),
                         version_count=0 if latest is None else latest.seq + 1,
                         aliases=store.list_aliases(op))

    def pipeline(name: str) -> PipelineSummary:
        manifest = store.get_pipeline(name)
        return PipelineSummary(pipeline_name=manifest.pipeline_name,
                               last_op_name=manifest.last_op_name,
                               registered_at=manifest.registered_at.isoformat())

    return BrowseOpsResponse(ops=_parallel(summary, store.list_ops()),
                             pipelines=_parallel(pipeline, store.list_pipelines()))


def _version_page(store: OpStore, op: str, page: int, per_page: int,
                  call: Call) -> tuple[int, int, list[VersionRecord]]:
    """(total, page, the page's records newest first), parsing only the page's entries.

    The same reading as the registry's ``list_versions`` (the head, then the listing:
    every version is held by the head or listed), but an entry key is only split for
    its seq until it is on the page: 10,000 versions cost their LIST pages and 50
    parsed keys, not 10,000 records.
    """
    held = {record.seq: record for record in store.held_versions(op)}
    if not held:
        raise OpNotFoundError(f"op {op!r} has no registered versions")
    keys, seqs, skipped = _entry_keys(store, op, held)
    call.skipped_keys.extend(skipped)
    pages = max(1, -(-len(seqs) // per_page))
    page = min(page, pages)
    shown: list[VersionRecord] = []
    for seq in seqs[(page - 1) * per_page:page * per_page]:
        if seq in held:
            shown.append(held[seq])
            continue
        try:
            shown.append(parse_version_entry(op, keys[seq]))
        except ValueError:
            call.skipped_keys.append(keys[seq])
    return len(seqs), page, shown


def _entry_keys(store: OpStore, op: str, held: dict[int, VersionRecord]
                ) -> tuple[dict[int, str], list[int], list[str]]:
    """seq -> entry key, every seq newest first, and the keys that are no entry.

    Kept per op while its head stays the same: a version's entry is created before
    the head lets go of it, and entries are never deleted, so a listing read after
    seeing a head already holds every version that head implies. Paging through a
    large op lists it once.
    """
    cache_key = (store.url, op)
    latest = held[max(held)]
    head = (latest.seq, latest.version.vid, latest.registered_at)
    with _LISTINGS_LOCK:
        cached = _LISTINGS.get(cache_key)
        if cached is not None and cached[0] == head:
            _LISTINGS.move_to_end(cache_key)
            return cached[1]
    keys, skipped = store.version_entry_keys(op)
    for seq in held:
        keys.pop(seq, None)
    found = (keys, sorted([*keys, *held], reverse=True), skipped)
    with _LISTINGS_LOCK:
        _LISTINGS[cache_key] = (head, found)
        while len(_LISTINGS) > _LISTINGS_KEPT:
            _LISTINGS.popitem(last=False)
    return found


def browse_op(store: OpStore, req: BrowseOpRequest, call: Call) -> BrowseOpResponse:
    op = req.op_name
    total, page, shown = _version_page(store, op, req.page, req.per_page, call)
    pages = max(1, -(-total // req.per_page))
    histories = _alias_histories(store, op)
    targets = {entry.version.vid for history in histories.values() for entry in history}
    by_vid = {record.version.vid: record for record in _parallel(
        lambda vid: _record(store, op, vid), sorted(targets)) if record is not None}
    saved = _parallel(lambda r: _bytes(store, op, r.version), shown)
    rows = [VersionRow(info=VersionInfo.of(record), bytes=found,
                       aliases=_on(histories, record.version))
            for record, found in zip(shown, saved, strict=True)]

    def state(alias: str) -> AliasState:
        entries = [AliasHistoryEntry(
            seq=e.seq, version=str(e.version),
            number=by_vid[e.version.vid].number_text if e.version.vid in by_vid else None,
            registered_at=e.registered_at.isoformat()) for e in histories[alias]]
        return AliasState(alias=alias, version=entries[0].version, number=entries[0].number,
                          history=entries)

    return BrowseOpResponse(op_name=op, total=total, page=page, per_page=req.per_page,
                            pages=pages, versions=rows,
                            aliases=[state(alias) for alias in sorted(histories)])


def browse_version(store: OpStore, req: BrowseVersionRequest,
                   call: Call) -> BrowseVersionResponse:
    op = req.op_name
    record = store.get_version(op, req.version)
    histories = _alias_histories(store, op)
    edges = _edges(store)
    vid = record.version.vid
    downstream = [d for (u, d) in edges if u == op
                  and vid in {v.vid for v in store.get_validated_links(d, op)}]
    upstream_ops = [u for (u, d) in edges if d == op]

    def linked(upstream: str) -> LinkedOp:
        return LinkedOp(op_name=upstream, versions=[
            VersionInfo.of(r) for r in _linked_records(store, op, upstream)])

    command = ["s3opstore", "--store", store.url, "pull", op, "--version",
               str(record.version), "-o", "op.bytes"]
    return BrowseVersionResponse(
        info=VersionInfo.of(record), bytes=_bytes(store, op, record.version),
        aliases=_on(histories, record.version),
        downstream=sorted(downstream), upstream=_parallel(linked, sorted(upstream_ops)),
        pull_command=shlex.join(command))


def _reach(pairs: list[tuple[str, str]], start: str, upstream: bool) -> set[str]:
    """``start`` and every op upstream (or downstream) of it, through any number of links."""
    reached, frontier = {start}, [start]
    while frontier:
        op = frontier.pop()
        for up, down in pairs:
            near, far = (down, up) if upstream else (up, down)
            if near == op and far not in reached:
                reached.add(far)
                frontier.append(far)
    return reached


def lineage(store: OpStore, req: LineageRequest, call: Call) -> LineageResponse:
    pairs = list(_edges(store))
    if req.pipeline_name is not None:
        names = _reach(pairs, store.get_pipeline(req.pipeline_name).last_op_name, True)
        pairs = [(u, d) for (u, d) in pairs if u in names and d in names]
    elif req.op_name is not None:
        above = _reach(pairs, req.op_name, True)
        below = _reach(pairs, req.op_name, False)
        pairs = [(u, d) for (u, d) in pairs if (u in above and d in above)
                 or (u in below and d in below)]
        names = above | below
    else:
        names = set(store.list_ops())
    for upstream, downstream in pairs:
        names.update((upstream, downstream))
    ordered = sorted(names)
    latest = dict(zip(ordered, _parallel(store.latest_version, ordered), strict=True))

    def edge(pair: tuple[str, str]) -> LineageEdge:
        upstream, downstream = pair
        records = _linked_records(store, downstream, upstream)
        return LineageEdge(upstream=upstream, downstream=downstream,
                           version_count=len(records),
                           numbers=[r.number_text for r in records[:MAX_EDGE_VERSIONS]])

    def node(name: str) -> LineageNode:
        record = latest[name]
        return LineageNode(op_name=name,
                           latest_number=None if record is None else record.number_text,
                           version_count=0 if record is None else record.seq + 1)

    nodes = [node(name) for name in ordered]
    return LineageResponse(nodes=nodes, edges=_parallel(edge, sorted(pairs)))


def browse_pipeline(store: OpStore, req: BrowsePipelineRequest,
                    call: Call) -> BrowsePipelineResponse:
    resolution = store.resolve_pipeline(req.pipeline_name)
    return BrowsePipelineResponse(
        pipeline_name=resolution.pipeline, last_op_name=resolution.last_op, ok=resolution.ok,
        ops=[ResolvedOp(op_name=o.op_name, version=str(o.record.version),
                        number=o.record.number_text, is_latest=o.is_latest,
                        downstream=list(o.downstream)) for o in resolution.ops],
        missing=[UnresolvedLink(upstream=m.upstream, downstream=m.downstream, reason=m.reason)
                 for m in resolution.missing])
