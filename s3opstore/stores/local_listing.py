"""Listings of a local store: the files below a key prefix, in key order.

A listing starts at the deepest directory the prefix names completely (so
``ops/m/versions/`` reads one directory, not the whole store), walks regular
files only (links and dot names, the store's own scratch included, are
skipped), and maps stored names back to keys with the store's layout (plain
or case-folded). Files that vanish between the walk and their ``lstat`` are
left out, as S3 leaves out keys deleted during a listing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator

from s3opstore.errors import InvalidKeyError
from s3opstore.stores.base import ObjectInfo, check_prefix
from s3opstore.stores.local_fs import mtime, translated, walk_dirs

__all__ = ["list_dirs", "list_objects"]

#: a stored name -> the key segment it encodes (None: no key encodes to it)
Decode = Callable[[str], str | None]
#: a key -> the stored names of its segments (InvalidKeyError for a '.' segment)
Segments = Callable[[str], list[str]]


def _walk(path: str, prefix: str, decode: Decode) -> Iterator[tuple[str, str]]:
    """(key, path) of every regular file below ``path``; links and dot names skipped."""
    try:
        entries = list(os.scandir(path))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        name = None if entry.name.startswith(".") else decode(entry.name)
        if name is None:
            continue
        key = f"{prefix}{name}"
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, key + "/", decode)
        elif entry.is_file(follow_symlinks=False):
            yield key, entry.path


def _start(root: str, prefix: str, segments: Segments) -> tuple[str, str] | None:
    """(directory, key prefix of its entries) where a listing of ``prefix`` starts."""
    check_prefix(prefix)
    if "/" not in prefix:
        return root, ""
    start = prefix.rsplit("/", 1)[0]
    try:
        stored = segments(start)
    except InvalidKeyError:
        return None  # a '.' segment: no key can be below it
    directory = walk_dirs(root, stored, prefix, create=False)
    return None if directory is None else (directory, start + "/")


def list_objects(root: str, prefix: str, segments: Segments, decode: Decode, *,
                 start_after: str | None, limit: int | None) -> Iterator[ObjectInfo]:
    with translated(f"list of prefix {prefix!r}"):
        where = _start(root, prefix, segments)
        if where is None:
            return
        found = sorted(item for item in _walk(*where, decode) if item[0].startswith(prefix))
        count = 0
        for key, path in found:
            if start_after is not None and key <= start_after:
                continue
            if limit is not None and count >= limit:
                return
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            count += 1
            yield ObjectInfo(key=key, size=info.st_size, etag=None, last_modified=mtime(info))


def list_dirs(root: str, prefix: str, segments: Segments, decode: Decode) -> list[str]:
    with translated(f"list of prefix {prefix!r}"):
        where = _start(root, prefix, segments)
        if where is None:
            return []
        try:
            entries = list(os.scandir(where[0]))
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = []
        for entry in entries:
            name = None if entry.name.startswith(".") else decode(entry.name)
            if name is not None and entry.is_dir(follow_symlinks=False) and any(
                    True for _ in _walk(entry.path, "", decode)):
                names.append(name)
        return sorted(names)
