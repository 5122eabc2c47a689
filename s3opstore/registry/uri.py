"""Model URIs: one string naming a store, an op and a version.

``s3opstore://<bucket>/<prefix...>/<op>@<ref>`` names the version ``ref``
(any reference :mod:`s3opstore.registry.refs` accepts; without ``@<ref>``:
``latest``) of ``op`` in the store ``s3://<bucket>/<prefix...>``;
``s3opstore+file:///<dir...>/<op>@<ref>`` does the same for a local store.
The last path segment is ``<op>@<ref>``, split at its last ``@``; both parts
are percent-decoded, so an op name with ``/`` or ``@`` is written ``%2F``/``%40``.

:func:`load_model` is the loader helper: it resolves the reference and
returns the record and the verified bytes, through a :class:`CachedLoader`
(blob cache on disk) when ``cache_dir`` is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlparse

from s3opstore.errors import InvalidInputError
from s3opstore.models.manifests import VersionRecord
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.refs import LATEST

__all__ = ["ModelUri", "load_model", "model_uri", "parse_model_uri"]

_SCHEMES = {"s3opstore": "s3", "s3opstore+file": "file"}


@dataclass(frozen=True)
class ModelUri:
    store_url: str
    op: str
    ref: str


def parse_model_uri(uri: str) -> ModelUri:
    """Split a model URI; InvalidInputError names what is wrong with it."""
    if not isinstance(uri, str):
        raise InvalidInputError(f"model URI {uri!r} is not a string")
    parsed = urlparse(uri)
    scheme = _SCHEMES.get(parsed.scheme)
    if scheme is None:
        raise InvalidInputError(
            f"model URI {uri!r} must start with s3opstore:// (S3) or s3opstore+file:// (a "
            "local directory)")
    if scheme == "s3" and not parsed.netloc:
        raise InvalidInputError(f"model URI {uri!r} names no bucket")
    if parsed.query or parsed.fragment or parsed.params:
        raise InvalidInputError(f"model URI {uri!r} has a query or fragment; an op name with "
                                "'?' or '#' is written %3F / %23")
    directory, _, last = parsed.path.rpartition("/")
    if not last:
        raise InvalidInputError(f"model URI {uri!r} names no op (it ends with '/')")
    op_text, sep, ref_text = last.rpartition("@")
    if not sep:
        op_text, ref_text = last, LATEST
    op, ref = unquote(op_text), unquote(ref_text)
    if not op or not ref:
        raise InvalidInputError(f"model URI {uri!r}: the op and the reference must be non-empty")
    return ModelUri(f"{scheme}://{parsed.netloc}{directory}", op, ref)


def model_uri(store_url: str, op: str, ref: str = LATEST) -> str:
    """The model URI of ``op@ref`` in the store at ``store_url`` (s3:// or file://)."""
    for ours, theirs in _SCHEMES.items():
        prefix = f"{theirs}://"
        if store_url.startswith(prefix):
            base = store_url[len(prefix):].rstrip("/")
            return f"{ours}://{base}/{quote(op, safe='')}@{quote(ref, safe='')}"
    raise InvalidInputError(f"store URL {store_url!r} is neither s3:// nor file://")


def load_model(uri: str, *, client: Any = None,
               cache_dir: str | os.PathLike[str] | None = None,
               allow_archived: bool = False) -> tuple[VersionRecord, bytes]:
    """The record and the digest-verified bytes a model URI names.

    A deprecated version loads with a RetiredVersionWarning; an archived one
    raises RetiredVersionError unless ``allow_archived``.
    """
    parts = parse_model_uri(uri)
    store = OpStore.from_url(parts.store_url, client=client)
    if cache_dir is not None:
        from s3opstore.registry.cache import CachedLoader

        loader = CachedLoader(store, cache_dir, allow_archived=allow_archived)
        return loader.load_ref(parts.op, parts.ref)  # checks retirement itself
    record = store.resolve(parts.op, parts.ref)
    store.check_loadable(parts.op, record.version, allow_archived=allow_archived)
    return record, store.load_op_bytes(parts.op, record.version)
