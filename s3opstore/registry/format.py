"""The store's format version: one root manifest, checked by every opener (design.md, D13).

``_s3opstore/format.json`` (:class:`StoreFormat`) says which format the store
is in. Every process reads it once per store URL before its first request
through the registry (one GET, cached like the conditional-write probe), and
refuses a store whose format is newer than :data:`FORMAT_VERSION` with
:class:`UnsupportedFormatError` naming both versions. The first write through
a process creates it create-only when it is absent; a store without one was
written before D13 and is format 1. gc and fsck check it too.

Only positive answers are cached: a refused store is read again next time, so
an upgrade needs no restart of anything but the refused process itself.

This release writes format 2 but keeps writing a format-1 store as format 1
(:func:`format_version`): a store's root manifest only ever moves forward
through a migration, so what an older reader of it trusts stays true.
"""

from __future__ import annotations

import threading

from s3opstore.errors import ObjectNotFoundError, UnsupportedFormatError
from s3opstore.models.codec import decode
from s3opstore.models.keys import FORMAT_KEY
from s3opstore.models.manifests import FORMAT_VERSION, StoreFormat, utc_now_ms
from s3opstore.registry.commit import Committer, RetryPolicy, new_token
from s3opstore.stores.base import ObjectStore

__all__ = ["check_format", "ensure_format_written", "forget_formats", "format_version",
           "read_format"]

_LOCK = threading.Lock()
_CHECKED: dict[str, bool] = {}  # url -> whether a root manifest was there when we looked
_WRITTEN: set[str] = set()  # urls whose root manifest this process saw or created
_VERSIONS: dict[str, int] = {}  # url -> the format its root manifest says (absent: 1)


def read_format(store: ObjectStore) -> StoreFormat | None:
    """The store's root manifest (None: written before D13, format 1); refuses a newer one."""
    try:
        got = store.get(FORMAT_KEY)
    except ObjectNotFoundError:
        return None
    return _refuse_newer(store, decode(StoreFormat, got.data, FORMAT_KEY))


def _refuse_newer(store: ObjectStore, found: StoreFormat) -> StoreFormat:
    if found.format_version > FORMAT_VERSION:
        raise UnsupportedFormatError(
            f"the store at {store.url} has format version {found.format_version} (written "
            f"by {found.written_by}); this s3opstore {_release()} reads format version "
            f"{FORMAT_VERSION} and older: upgrade s3opstore to use this store")
    return found


def check_format(store: ObjectStore) -> None:
    """Read the root manifest once per store URL and process; raise if it is too new."""
    url = store.url
    with _LOCK:
        if url in _CHECKED:
            return
    found = read_format(store)
    with _LOCK:
        _CHECKED[url] = found is not None
        _VERSIONS[url] = 1 if found is None else found.format_version
        if found is not None:
            _WRITTEN.add(url)


def format_version(store: ObjectStore) -> int:
    """The format the store is in, as this process last read or wrote it (one GET the
    first time): what a writer must keep to. A store without a root manifest is 1 until
    the first write creates one."""
    with _LOCK:
        known = _VERSIONS.get(store.url)
    if known is None:
        check_format(store)
        with _LOCK:
            known = _VERSIONS.get(store.url, 1)
    return known


def ensure_format_written(store: ObjectStore) -> None:
    """Before the first write: create the root manifest if absent, else check it.

    Create-only through the committer's create (lost responses and 409s are
    handled there), so two first writers agree on one manifest; a newer
    writer's manifest found instead is checked like any opener's.
    """
    url = store.url
    with _LOCK:
        if url in _WRITTEN:
            return
    fresh = StoreFormat(format_version=FORMAT_VERSION, written_by=f"s3opstore {_release()}",
                        created_at=utc_now_ms(), token=new_token())
    stored, _created = Committer(store, RetryPolicy(), _no_probe).create(FORMAT_KEY, fresh)
    _refuse_newer(store, stored)
    with _LOCK:
        _CHECKED[url] = True
        _WRITTEN.add(url)
        _VERSIONS[url] = stored.format_version


def _release() -> str:
    from s3opstore import __version__  # the package imports this module while it loads

    return __version__


def _no_probe() -> None:
    """The root manifest is written after the conditional-write probe, not before it."""


def forget_formats() -> None:
    """Tests: behave like a new process (check and write the root manifest again)."""
    with _LOCK:
        _CHECKED.clear()
        _WRITTEN.clear()
        _VERSIONS.clear()
