"""A warm-process loader: the latest bytes of an op, with a local blob cache.

Built for a Lambda-style loop (one process, many invocations) that needs the
bytes of an op's latest version each time. What it keeps between calls:

- **Blobs on disk, by SHA-256** (``<cache_dir>/sha256/<hex>``), written
  atomically (temporary file, then rename), verified on every read (a
  mismatch drops the file and downloads again), evicted least recently used
  once their total size passes ``max_bytes``. Blobs are content-addressed, so
  a cached blob can never be stale: only missing or corrupt.
- **Byte bindings in memory**, by binding key. A binding key is create-only
  and never rewritten, so ``key -> (sha256, size)`` is true forever. When the
  OpStore has trusted keys (design.md, D15), a binding is kept only after its
  signature verified, so a warm load never skips the check.

- **The heads it read, with their ETags**: the op head (``load_latest``) and
  alias heads (``load_ref("op@production")``) are re-read with a conditional
  GET (``If-None-Match``), so an unchanged head costs one request and no body.

Every load honours retirement like the CLI and API do: a deprecated version
warns (:class:`~s3opstore.registry.retire.RetiredVersionWarning`), an archived
one raises :class:`~s3opstore.registry.retire.RetiredVersionError` unless the
loader was built with ``allow_archived=True``.

Requests per ``load_latest`` or ``load_ref("op@alias")`` once warm and
unchanged (S3 backend):

- ``binding_ttl=0`` (default, always correct): the head's conditional GET (a
  304), LIST the version's status (``MaxKeys=1``: archived since?), LIST the
  newest binding key of that version; the key is already known, so no GET of
  the binding and no blob transfer: **3 small requests**.
- ``binding_ttl=T > 0``: within ``T`` seconds of the last check of a version's
  binding and status, both are trusted without their LISTs: **1 small
  request**, the head's conditional GET. A new *version* or a moved alias is
  still seen at once (the head changed); only a re-save of different bytes
  under the *same* version, or a retirement of it, is picked up up to ``T``
  seconds late.

A new latest version or new bytes cost the cold path: GET head, LIST + GET
binding, then the blob (one GET up to 16 MiB, else a streamed download),
unless a blob with that digest is already on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from s3opstore.errors import (
    AliasNotFoundError,
    BytesNotFoundError,
    IntegrityError,
    InvalidInputError,
    ObjectNotFoundError,
    OpNotFoundError,
)
from s3opstore.models.codec import decode
from s3opstore.models.digests import is_sha256
from s3opstore.models.head import OpHead
from s3opstore.models.keys import alias_head_key, blob_key, bytes_prefix, op_head_key
from s3opstore.models.manifests import BytesBinding, StatusManifest, VersionRecord
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from s3opstore.registry import alias_heads as _heads
from s3opstore.registry.blobs import SINGLE_GET_LIMIT
from s3opstore.registry.context import Context
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.refs import LATEST, alias_candidate, split_op_ref
from s3opstore.registry.retire import judge_loadable, status

__all__ = ["CacheStats", "CachedLoader"]

_READ_CHUNK = 1024 * 1024


@dataclass
class CacheStats:
    """Counters since the loader was created (for monitoring and tests)."""

    loads: int = 0
    blob_hits: int = 0
    blob_misses: int = 0
    binding_checks: int = 0  # LISTs of a version's newest binding
    head_checks: int = 0  # conditional GETs of an op or alias head
    heads_unchanged: int = 0  # ... answered "not modified"
    status_checks: int = 0  # LISTs of a version's status
    binding_reads: int = 0  # GETs of a binding not seen before
    evictions: int = 0
    corrupt_dropped: int = 0


@dataclass(frozen=True, slots=True)
class _Binding:
    key: str
    sha256: str
    size: int


class CachedLoader:
    """Load the latest bytes of ops through an on-disk, content-addressed cache.

    Thread-safe within a process; several processes may share ``cache_dir``
    (files appear atomically, and every read is verified).
    """

    def __init__(self, opstore: OpStore, cache_dir: str | os.PathLike[str],
                 max_bytes: int = 1024**3, *, binding_ttl: float = 0.0,
                 allow_archived: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_bytes < 0:
            raise InvalidInputError(f"max_bytes must be >= 0, not {max_bytes}")
        if binding_ttl < 0:
            raise InvalidInputError(f"binding_ttl must be >= 0, not {binding_ttl}")
        self.opstore = opstore
        self.max_bytes = max_bytes
        self.binding_ttl = binding_ttl
        self.allow_archived = allow_archived
        self.stats = CacheStats()
        self._ctx = Context(opstore.store)  # reads only: the heads' conditional GETs
        self._clock = clock
        self._dir = Path(cache_dir) / "sha256"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._bindings: dict[str, _Binding] = {}  # binding key -> binding (immutable)
        self._checked: dict[tuple[str, str], tuple[_Binding, float]] = {}  # (op, vid)
        self._statuses: dict[tuple[str, str], tuple[StatusManifest | None, float]] = {}
        self._heads: dict[str, tuple[str, VersionRecord]] = {}  # head key -> (ETag, record)
        self._lru: OrderedDict[str, int] = OrderedDict()  # sha256 -> size, oldest first
        self._scan()

    # -- public --------------------------------------------------------------
    @property
    def cached_bytes(self) -> int:
        with self._lock:
            return sum(self._lru.values())

    def load_latest(self, op_name: str) -> tuple[VersionRecord, bytes]:
        """The op's latest version record and its (digest-verified) bytes."""
        op = check_name(op_name)
        record = self._latest(op)
        return record, self._load_checked(op, record)

    def load(self, op_name: str, version: Version | str) -> bytes:
        """The bytes of a given registered version, through the same cache."""
        op = check_name(op_name)
        record = self.opstore.get_version(op, version)
        return self._load_checked(op, record)

    def load_ref(self, op_ref: str, ref: str | None = None) -> tuple[VersionRecord, bytes]:
        """``op@ref`` (``pca@production``, ``pca@1.2.0``; ``pca`` alone: latest), any ref
        :meth:`OpStore.resolve` reads; an alias is re-read by a conditional GET of its head.

        With ``ref`` given, ``op_ref`` is the op name as it is (an ``@`` in it stays).
        """
        op_name = op_ref
        if ref is None:
            op_name, ref = split_op_ref(op_ref, LATEST)
        op = check_name(op_name)
        if ref is None or ref == LATEST:
            return self.load_latest(op)
        alias = alias_candidate(ref)
        record = self._alias(op, alias) if alias is not None else None
        if record is None:
            record = self.opstore.resolve(op, ref)
        return record, self._load_checked(op, record)

    # -- heads ---------------------------------------------------------------
    def _latest(self, op: str) -> VersionRecord:
        key = op_head_key(op)
        with self._lock:
            known = self._heads.get(key)
        self.stats.head_checks += 1
        try:
            got = (self._ctx.store.get(key) if known is None
                   else self._ctx.store.get_if_changed(key, known[0]))
        except ObjectNotFoundError:
            raise OpNotFoundError(f"op {op!r} has no registered versions") from None
        if got is None:  # 304: only ever the answer to a conditional GET
            assert known is not None
            self.stats.heads_unchanged += 1
            return known[1]
        record = decode(OpHead, got.data, key).latest
        with self._lock:
            self._heads[key] = (got.etag, record)
        return record

    def _alias(self, op: str, alias: str) -> VersionRecord | None:
        """The record the alias's head names; None when the alias has no head."""
        key = alias_head_key(op, alias)
        with self._lock:
            known = self._heads.get(key)
        self.stats.head_checks += 1
        try:
            snapshot = (_heads.read_head(self._ctx, op, alias) if known is None
                        else _heads.read_head_if_changed(self._ctx, op, alias, known[0]))
        except ObjectNotFoundError:
            snapshot, known = None, None
        if snapshot is None:
            if known is not None:
                self.stats.heads_unchanged += 1
            return None if known is None else known[1]
        position = snapshot.value.position
        if position.deleted:
            with self._lock:
                self._heads.pop(key, None)
            raise AliasNotFoundError(f"alias {alias!r} of op {op!r} was deleted (it pointed "
                                     f"at {position.version})")
        record = snapshot.value.record or self.opstore.get_version(op, position.version)
        with self._lock:
            self._heads[key] = (snapshot.etag, record)
        return record

    def _load_checked(self, op: str, record: VersionRecord) -> bytes:
        """Retirement first (warn or refuse, like the CLI and API), then the bytes."""
        slot = (op, record.version.vid)
        now = self._clock()
        with self._lock:
            known = self._statuses.get(slot)
        if known is None or self.binding_ttl <= 0 or now - known[1] >= self.binding_ttl:
            self.stats.status_checks += 1
            known = (status(self._ctx, op, record.version), now)
            with self._lock:
                self._statuses[slot] = known
        judge_loadable(known[0], op, record.version, allow_archived=self.allow_archived,
                       stacklevel=4)
        return self._load(op, record)

    def clear_memory(self) -> None:
        """Forget the in-memory binding knowledge (the disk cache stays)."""
        with self._lock:
            self._bindings.clear()
            self._checked.clear()
            self._statuses.clear()
            self._heads.clear()

    # -- bindings ------------------------------------------------------------
    def _binding(self, op: str, record: VersionRecord) -> _Binding:
        version = record.version
        slot = (op, version.vid)
        with self._lock:
            known = self._checked.get(slot)
        now = self._clock()
        if known is not None and self.binding_ttl > 0 and now - known[1] < self.binding_ttl:
            return known[0]
        store = self.opstore.store
        newest = next((info.key for info in store.list(bytes_prefix(op, version), limit=1)),
                      None)
        self.stats.binding_checks += 1
        if newest is None:
            raise BytesNotFoundError(f"no bytes were saved for version {version} of op {op!r}")
        with self._lock:
            binding = self._bindings.get(newest)
        if binding is None:
            try:
                got = store.get(newest)
            except ObjectNotFoundError as exc:  # listed a moment ago; never deleted
                raise IntegrityError(f"byte binding {newest!r} vanished after being listed"
                                     ) from exc
            value = decode(BytesBinding, got.data, newest)
            self.stats.binding_reads += 1
            verifier = self.opstore.verifier
            if verifier is not None:  # D15: refused before the blob; kept only once trusted
                verifier.check_binding(value, record)
            binding = _Binding(newest, value.sha256, value.size)
        with self._lock:
            self._bindings[newest] = binding
            self._checked[slot] = (binding, now)
        return binding

    # -- blobs ---------------------------------------------------------------
    def _load(self, op: str, record: VersionRecord) -> bytes:
        version = record.version
        binding = self._binding(op, record)
        self.stats.loads += 1
        data = self._read_cached(binding)
        if data is not None:
            self.stats.blob_hits += 1
            return data
        self.stats.blob_misses += 1
        data = self._fetch(op, version, binding)
        self._store(binding, data)
        return data

    def _path(self, sha256: str) -> Path:
        return self._dir / sha256

    def _read_cached(self, binding: _Binding) -> bytes | None:
        path = self._path(binding.sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            with self._lock:
                self._lru.pop(binding.sha256, None)
            return None
        if len(data) != binding.size or hashlib.sha256(data).hexdigest() != binding.sha256:
            self.stats.corrupt_dropped += 1
            with self._lock:
                self._lru.pop(binding.sha256, None)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None
        with self._lock:
            self._lru[binding.sha256] = binding.size
            self._lru.move_to_end(binding.sha256)
        with contextlib.suppress(OSError):
            os.utime(path)  # recency survives a restart
        return data

    def _fetch(self, op: str, version: Version, binding: _Binding) -> bytes:
        key = blob_key(op, binding.sha256)
        store = self.opstore.store
        try:
            if binding.size <= SINGLE_GET_LIMIT:
                data = store.get(key).data
            else:
                buffer = io.BytesIO()
                store.download(key, buffer)
                data = buffer.getvalue()
        except ObjectNotFoundError as exc:
            raise IntegrityError(f"blob {key!r} for version {version} of op {op!r} is "
                                 "missing") from exc
        sha = hashlib.sha256(data).hexdigest()
        if sha != binding.sha256 or len(data) != binding.size:
            raise IntegrityError(
                f"blob {key!r} is corrupt: expected sha256 {binding.sha256} ({binding.size} "
                f"bytes), read sha256 {sha} ({len(data)} bytes)")
        return data

    def _store(self, binding: _Binding, data: bytes) -> None:
        if binding.size > self.max_bytes:
            return  # larger than the whole cache: serve it, do not keep it
        fd, tmp = tempfile.mkstemp(dir=self._dir.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self._path(binding.sha256))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        with self._lock:
            self._lru[binding.sha256] = binding.size
            self._lru.move_to_end(binding.sha256)
            self._evict(keep=binding.sha256)

    def _evict(self, keep: str) -> None:
        total = sum(self._lru.values())
        for sha in list(self._lru):
            if total <= self.max_bytes:
                return
            if sha == keep:
                continue
            total -= self._lru.pop(sha)
            with contextlib.suppress(FileNotFoundError):
                self._path(sha).unlink()
            self.stats.evictions += 1

    def _scan(self) -> None:
        found: list[tuple[float, str, int]] = []
        for entry in os.scandir(self._dir):
            if entry.is_file() and is_sha256(entry.name):
                info = entry.stat()
                found.append((info.st_mtime, entry.name, info.st_size))
        for _mtime, sha, size in sorted(found):
            self._lru[sha] = size
        with self._lock:
            if self._lru:
                self._evict(keep="")
