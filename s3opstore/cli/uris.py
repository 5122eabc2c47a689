"""Model URIs on the command line: ``s3opstore pull s3opstore://bucket/prefix/op@production``.

Wherever a command takes ``OP@REF`` (``show``, ``pull``, ``tag``, ``deprecate``,
``archive``, ``restore``) it also takes a model URI (:mod:`s3opstore.registry.uri`),
which names the store too. The URI's store is the store the command opens:
``$S3OPSTORE_URL`` is only a default and the URI wins over it, while a ``--store``
naming another store is a usage error (exit 2), as is a version named both in the
URI and by ``REF``/``--version``/``--alias``. Rewritten here, before the store is
opened, so the commands themselves only ever see an op and a ref.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import unquote, urlparse

from s3opstore.errors import InvalidInputError
from s3opstore.registry.uri import parse_model_uri

__all__ = ["SCHEMES", "apply_model_uri"]

SCHEMES = ("s3opstore://", "s3opstore+file://")
# command -> (the argument holding OP@REF, the arguments that name a version separately)
_REF_ARGS = {"show": ("op", ("version",)), "pull": ("op", ("version", "alias")),
             "tag": ("target", ()), "deprecate": ("target", ()), "archive": ("target", ()),
             "restore": ("target", ())}


def _same_store(url: str) -> str:
    """A store URL in one spelling: no trailing slash; directories as absolute file:// URLs."""
    if url.startswith("s3://"):
        return url.rstrip("/")
    path = unquote(urlparse(url).path) if url.startswith("file://") else url
    return Path(path).expanduser().resolve().as_uri()


def apply_model_uri(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Replace a model URI argument by its op and ref, and select its store."""
    where = _REF_ARGS.get(getattr(args, "command", ""))
    if where is None:
        return
    name, separate = where
    value = getattr(args, name, None)
    if not isinstance(value, str) or not value.startswith(SCHEMES):
        return
    try:
        uri = parse_model_uri(value)
    except InvalidInputError as exc:
        parser.error(exc.message)
    explicit = "@" in value.rsplit("/", 1)[-1]
    labels = {"version": "REF" if args.command == "show" else "--version", "alias": "--alias"}
    given = [labels[other] for other in separate if getattr(args, other, None) is not None]
    if explicit and given:
        parser.error(f"{value} names the version already; drop {given[0]}")
    store = getattr(args, "store", None)
    if store is not None and _same_store(store) != _same_store(uri.store_url):
        parser.error(f"{value} is in the store {uri.store_url}, but --store names {store}; "
                     "give one of them")
    args.store = uri.store_url
    if name == "op":
        args.op = uri.op
        if explicit:
            args.version = uri.ref
    else:
        setattr(args, name, f"{uri.op}@{uri.ref}" if explicit else uri.op)
