"""``OpStore``: the registry's public face over one store.

Validates every name and version before any request (bad input never
reaches the bucket), then delegates to one module per entity. Every write
accepts an ``idempotency_key``: the same key twice applies once and returns
the first result, even from another process (a retried Lambda invocation).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from s3opstore.errors import InvalidInputError, InvalidVersionError
from s3opstore.models.digests import check_sha256
from s3opstore.models.manifests import (
    AliasManifest,
    BytesSignature,
    PipelineManifest,
    VersionRecord,
)
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from s3opstore.registry import alias_heads as _alias_heads
from s3opstore.registry import aliases as _aliases
from s3opstore.registry import blobs as _blobs
from s3opstore.registry import links as _links
from s3opstore.registry import metadata as _metadata
from s3opstore.registry import pipelines as _pipelines
from s3opstore.registry import refs as _refs
from s3opstore.registry import retire as _retire
from s3opstore.registry import uploads as _uploads
from s3opstore.registry import versions as _versions
from s3opstore.registry.arguments import as_version, idempotency
from s3opstore.registry.blobs import BlobSource, OpBytes
from s3opstore.registry.catalog import Catalog
from s3opstore.registry.commit import RetryPolicy
from s3opstore.registry.context import Context
from s3opstore.registry.listing import Listing
from s3opstore.registry.metadata import Metadata
from s3opstore.registry.trust_options import (
    SignerOption,
    TrustOption,
    as_signature,
    from_env,
    signer_option,
    verifier_option,
)
from s3opstore.registry.uploads import UploadTicket
from s3opstore.stores import ObjectStore, open_store
from s3opstore.trust.keys import SigningKey
from s3opstore.trust.verify import Verifier

__all__ = ["DEFAULT_STORE_DIR", "OpStore"]

DEFAULT_STORE_DIR = ".s3opstore"




class OpStore(Catalog):
    """The op registry over an object store (S3 bucket prefix or local directory)."""

    def __init__(self, store: ObjectStore, *, single_writer: bool = False,
                 retry: RetryPolicy | None = None, signer: SignerOption = None,
                 trusted_keys: TrustOption = None) -> None:
        """``signer`` signs every binding written; with ``trusted_keys`` every load refuses
        bytes not signed by one of them (design.md, D15). Both: objects or key file paths."""
        self.store = store
        self._ctx = Context(store, retry or RetryPolicy(), single_writer,
                            signer=signer_option(signer), verifier=verifier_option(trusted_keys))

    @classmethod
    def from_url(cls, url: str | None = None, *, client: Any = None,
                 single_writer: bool = False, retry: RetryPolicy | None = None,
                 signer: SignerOption = None, trusted_keys: TrustOption = None) -> OpStore:
        """Open ``s3://bucket/prefix``, ``file:///path``, or the embedded default.

        With no URL, ``S3OPSTORE_URL`` is used, else the local directory
        ``./.s3opstore``. ``client`` is an optional boto3 S3 client. Without
        ``signer`` / ``trusted_keys``, ``S3OPSTORE_SIGNING_KEY`` and
        ``S3OPSTORE_TRUSTED_KEYS`` name key files (registry/trust_options.py).
        """
        if url is None:
            url = os.environ.get("S3OPSTORE_URL") or Path(DEFAULT_STORE_DIR).resolve().as_uri()
        signer, trusted_keys = from_env(signer, trusted_keys)
        return cls(open_store(url, client=client), single_writer=single_writer, retry=retry,
                   signer=signer, trusted_keys=trusted_keys)

    def with_trust(self, *, signer: SignerOption = None,
                   trusted_keys: TrustOption = None) -> OpStore:
        """The same store, signing with ``signer`` / trusting ``trusted_keys`` where given."""
        if signer is None and trusted_keys is None:
            return self
        ctx = self._ctx
        twin = OpStore(self.store, single_writer=ctx.single_writer, retry=ctx.retry,
                       signer=signer or ctx.signer)
        twin._ctx.verifier = verifier_option(trusted_keys) or ctx.verifier
        return twin

    @property
    def signer(self) -> SigningKey | None:
        return self._ctx.signer

    @property
    def verifier(self) -> Verifier | None:
        return self._ctx.verifier

    @property
    def url(self) -> str:
        return self.store.url

    def __repr__(self) -> str:
        return f"OpStore({self.url!r})"

    def check_store(self) -> None:
        """Check the store now: its format (D13), the conditional-write probe, the root manifest.

        Otherwise the format is checked before the first request and the rest
        before the first write.
        """
        self._ctx.ensure_safe()

    # -- versions ------------------------------------------------------------
    def register_version(self, op_name: str, version: Version | str, *,
                         idempotency_key: str | None = None,
                         metadata: Metadata | Mapping[str, Any] | None = None) -> VersionRecord:
        """Register a version (idempotent: the same hashes return the first record).

        ``metadata`` (description, tags, params, metrics, source) is stored with
        the version, immutable; registering again with other metadata raises
        AlreadyExistsError and writes nothing. See :mod:`s3opstore.registry.metadata`.
        """
        op, parsed, key = check_name(op_name), as_version(version), idempotency(idempotency_key)
        if metadata is not None:
            checked = Metadata.of(metadata)
            if not checked.empty:
                return _metadata.register_with_metadata(self._ctx, op, parsed, checked, key)
        return _versions.register_version(self._ctx, op, parsed, key)

    def get_versions(self, op_name: str) -> list[VersionRecord]:
        """All versions in registration order; ``[]`` for an unknown op.

        An entry key that does not parse is skipped with a warning on the
        ``s3opstore.listing`` logger; :meth:`list_versions` returns it too.
        """
        return _versions.get_versions(self._ctx, check_name(op_name))

    def list_versions(self, op_name: str) -> Listing[list[VersionRecord]]:
        """``get_versions``, plus the listing keys it skipped because they do not parse."""
        return _versions.list_versions(self._ctx, check_name(op_name))

    def latest_version(self, op_name: str) -> VersionRecord | None:
        return _versions.latest_version(self._ctx, check_name(op_name))

    def get_version(self, op_name: str, version: Version | str) -> VersionRecord:
        """The registered record of ``version``; raises VersionNotFoundError."""
        return _versions.require_version(self._ctx, check_name(op_name), as_version(version))

    def list_ops(self, *, include_hidden: bool = False) -> list[str]:
        """Known ops in name order; hidden ops (:meth:`hide_op`) only with ``include_hidden``."""
        ops = _pipelines.list_ops(self._ctx)
        if include_hidden:
            return ops
        hidden = _retire.hidden_ops(self._ctx)
        return [op for op in ops if op not in hidden]

    def op_exists(self, op_name: str) -> bool:
        """Whether the op is known: versions, a pipeline's last op, or a link's downstream."""
        return _pipelines.op_exists(self._ctx, check_name(op_name))

    # -- bytes ---------------------------------------------------------------
    def save_op_bytes(self, op_name: str, version: Version | str, data: BlobSource, *,
                      idempotency_key: str | None = None) -> OpBytes:
        """Save the serialized op (bytes, binary file object, or path) for a registered version."""
        return _blobs.save_bytes(self._ctx, check_name(op_name), as_version(version), data,
                                 idempotency(idempotency_key))

    def load_op_bytes(self, op_name: str, version: Version | str) -> bytes:
        return _blobs.load_bytes(self._ctx, check_name(op_name), as_version(version))

    def read_op_bytes(self, where: OpBytes) -> bytes:
        """The bytes :meth:`op_bytes_info` located, digest verified (no second lookup).

        For callers that look at the size first (the HTTP API's response limit).
        """
        if not isinstance(where, OpBytes):
            raise InvalidInputError(f"{where!r} is not an OpBytes from op_bytes_info")
        return _blobs.read_located(self._ctx, where)

    def load_op_bytes_to(self, op_name: str, version: Version | str,
                         target: BinaryIO | str | os.PathLike[str]) -> OpBytes:
        """Stream the bytes to a path or binary file object, digest verified."""
        return _blobs.load_to(self._ctx, check_name(op_name), as_version(version), target)

    def bind_uploaded_blob(self, op_name: str, version: Version | str, sha256: str, size: int,
                           *, upload_key: str | None = None,
                           idempotency_key: str | None = None,
                           signature: BytesSignature | Mapping[str, Any] | None = None,
                           ) -> OpBytes:
        """Bind bytes a client uploaded through a presigned PUT (see :meth:`new_upload_key`).

        ``upload_key`` is the staging key the PUT went to; its content is proven
        (the store's checksum, else a re-hash) and copied into place conditionally.
        Without it the blob must already be at its content address. A mismatch
        raises IntegrityError and binds (and deletes) nothing. ``signature``: the
        client's (``trust.sign_binding``), checked against trusted keys if any.
        """
        check_sha256(sha256)
        if not isinstance(size, int) or size < 0:
            raise InvalidInputError(f"size {size!r} is not a non-negative integer")
        if upload_key is not None and not isinstance(upload_key, str):
            raise InvalidInputError(f"upload key {upload_key!r} is not a string")
        return _blobs.bind_uploaded(self._ctx, check_name(op_name), as_version(version), sha256,
                                    size, idempotency(idempotency_key), upload_key,
                                    as_signature(signature))

    def new_upload_key(self, op_name: str) -> str:
        """A fresh private staging key for one presigned upload of op bytes."""
        return _uploads.new_upload_key(check_name(op_name))

    def prepare_upload(self, op_name: str, version: Version | str, sha256: str,
                       size: int) -> UploadTicket:
        """A staging key for a presigned PUT, and whether the bytes are proven stored already."""
        return _uploads.prepare_upload(self._ctx, check_name(op_name), as_version(version),
                                       sha256, size)

    def op_bytes_info(self, op_name: str, version: Version | str, *,
                      verify: bool = True) -> OpBytes:
        """Digest, size, blob key and signer of the newest bytes saved for a version.

        With trusted keys, untrusted bytes raise UntrustedBytesError unless
        ``verify=False`` (for showing who signed; never before loading them).
        """
        return _blobs.locate(self._ctx, check_name(op_name), as_version(version), verify=verify)

    # -- links ---------------------------------------------------------------
    def register_valid_link(self, downstream_op_name: str | None, upstream_op_name: str,
                            upstream_version: Version | str, *,
                            idempotency_key: str | None = None) -> VersionRecord:
        """Record that ``upstream_version`` is valid input for the downstream op.

        Registers the upstream op and version when needed; a ``None``
        downstream means "end of pipeline": only the version is registered.
        """
        downstream = None if downstream_op_name is None else check_name(
            downstream_op_name, "downstream op name")
        return _links.register_valid_link(
            self._ctx, downstream, check_name(upstream_op_name, "upstream op name"),
            as_version(upstream_version), idempotency(idempotency_key))

    def get_validated_links(self, downstream_op_name: str, upstream_op_name: str) -> set[Version]:
        return _links.get_validated_links(
            self._ctx, check_name(downstream_op_name, "downstream op name"),
            check_name(upstream_op_name, "upstream op name"))

    def list_validated_links(self, downstream_op_name: str,
                             upstream_op_name: str) -> Listing[set[Version]]:
        """``get_validated_links``, plus the link keys it skipped because they do not parse."""
        return _links.list_validated_links(
            self._ctx, check_name(downstream_op_name, "downstream op name"),
            check_name(upstream_op_name, "upstream op name"))

    # -- pipelines -----------------------------------------------------------
    def register_pipeline(self, pipeline_name: str, last_op_name: str, *,
                          idempotency_key: str | None = None) -> PipelineManifest:
        return _pipelines.register_pipeline(
            self._ctx, check_name(pipeline_name, "pipeline name"),
            check_name(last_op_name, "last op name"), idempotency(idempotency_key))

    def pipeline_exists(self, pipeline_name: str) -> bool:
        return _pipelines.pipeline_exists(self._ctx, check_name(pipeline_name, "pipeline name"))

    def get_pipeline(self, pipeline_name: str) -> PipelineManifest:
        return _pipelines.get_pipeline(self._ctx, check_name(pipeline_name, "pipeline name"))

    def list_pipelines(self) -> list[str]:
        return _pipelines.list_pipelines(self._ctx)

    # -- aliases -------------------------------------------------------------
    def set_alias(self, op_name: str, alias: str, version: Version | str, *,
                  expected: Version | str | _aliases.Unset | None = _aliases.UNSET,
                  idempotency_key: str | None = None) -> AliasManifest:
        """Point ``alias`` at a registered version; ``expected`` makes it a compare-and-swap.

        ``version`` and ``expected`` are versions or version strings, checked before any
        request; to point at ``1.2.0`` or another alias, pass ``resolve(op, ref).version``
        (what ``s3opstore alias set`` does).
        """
        if isinstance(expected, str):
            expected = as_version(expected)
        elif not (expected is None or isinstance(expected, Version | _aliases.Unset)):
            raise InvalidVersionError(
                f"expected {expected!r} is neither a version, a version string nor None")
        alias = _refs.check_alias_name(check_name(alias, "alias"))
        return _aliases.set_alias(self._ctx, check_name(op_name), alias, as_version(version),
                                  expected=expected, idempotency_key=idempotency(idempotency_key))

    def get_alias(self, op_name: str, alias: str) -> VersionRecord:
        """The record the alias points at (one GET of the alias's head)."""
        return _aliases.get_alias_record(self._ctx, check_name(op_name),
                                         check_name(alias, "alias"))

    def alias_history(self, op_name: str, alias: str) -> list[AliasManifest]:
        return _aliases.alias_history(self._ctx, check_name(op_name), check_name(alias, "alias"))

    def list_aliases(self, op_name: str, *, include_deleted: bool = False) -> list[str]:
        """Alias names of the op; deleted aliases only with ``include_deleted``."""
        return _aliases.list_aliases(self._ctx, check_name(op_name),
                                     include_deleted=include_deleted)

    def delete_alias(self, op_name: str, alias: str, *,
                     expected: Version | str | _aliases.Unset = _aliases.UNSET,
                     idempotency_key: str | None = None) -> AliasManifest:
        """Delete an alias; its history keeps every position and the deletion.

        ``expected`` (any reference) makes it conditional on where the alias points now.
        """
        op, name = check_name(op_name), check_name(alias, "alias")
        if isinstance(expected, Version | str):
            expected = self.resolve(op, expected).version
        return _aliases.delete_alias(self._ctx, op, name, expected=expected,
                                     idempotency_key=idempotency(idempotency_key))

    def repair_alias_heads(self, *, dry_run: bool = False) -> list[tuple[str, str, int]]:
        """Roll alias heads that lag their history forward (``gc`` does it; design.md D17)."""
        return _alias_heads.repair_heads(self._ctx, dry_run=dry_run)
