"""A drop-in for Chariots' ``OpStoreClient``, backed by an :class:`OpStore`.

Same seven methods, same argument shapes (an op is any object with a
``.name``; a pipeline has ``.name`` and ``get_all_op_links()``), same answers:
``None`` when nothing exists, sets of versions otherwise.

Chariots' pipelines hand the client their own ``chariots.versioning.Version``
objects, so every version argument may be any object whose ``str()`` is a
version string. The versions handed back must behave like Chariots' own:
Chariots hashes ``str(version)`` (time included) while ``==`` compares the
three hashes only, and its users put returned versions in sets next to their
own. So the client returns Chariots' ``Version`` (parsed from the string, as
Chariots' HTTP client does) when Chariots is importable, else
:class:`ChariotsVersion`, which compares and hashes exactly like it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from s3opstore.errors import InvalidInputError, InvalidVersionError
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.trust_options import SignerOption, TrustOption

__all__ = ["ChariotsVersion", "S3OpStoreClient", "chariots_version_class"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Pipeline(Protocol):
    @property
    def name(self) -> str: ...

    def get_all_op_links(self) -> Any: ...


class _VersionClass(Protocol):
    def parse(self, version_string: str) -> Any: ...


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ChariotsVersion:
    """A version with ``chariots.versioning.Version``'s semantics, without Chariots.

    ``str()`` is the version string exactly as first registered; ``==`` compares
    ``major``, ``minor`` and ``patch`` with any object that has them (Chariots'
    own versions included); ``hash()`` is the hash of the string, as in Chariots,
    so a set of returned versions equals a set of Chariots' versions made from
    the same strings. ``a > b`` when they differ and ``a`` was created later.
    """

    __slots__ = ("_text", "creation_time", "major", "minor", "patch")

    _text: str
    major: str
    minor: str
    patch: str
    creation_time: datetime

    def __init__(self, version: Version) -> None:
        for name, value in (("_text", str(version)), ("major", version.major),
                            ("minor", version.minor), ("patch", version.patch),
                            ("creation_time", version.creation_time)):
            object.__setattr__(self, name, value)

    @classmethod
    def parse(cls, version_string: str) -> ChariotsVersion:
        return cls(Version.parse(version_string))

    def to_version(self) -> Version:
        """The s3opstore :class:`Version` of the same string."""
        return Version.parse(self._text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ChariotsVersion is immutable")

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:  # Chariots' own repr, so logs read the same
        return (f"<Version, major:{self.major[:5]}, minor: {self.minor[:5]}, "
                f"patch: {self.patch[:5]}>")

    def __eq__(self, other: object) -> bool:
        try:
            theirs = (other.major, other.minor, other.patch)  # type: ignore[attr-defined]
        except AttributeError:
            return NotImplemented
        return (self.major, self.minor, self.patch) == theirs

    def __hash__(self) -> int:
        return hash(self._text)

    def _created(self, other: object) -> datetime:
        moment = getattr(other, "creation_time", None)
        if not isinstance(moment, datetime):
            raise TypeError(f"cannot order a version and {other!r}")
        return _utc(moment)

    def __gt__(self, other: object) -> bool:
        return self != other and _utc(self.creation_time) > self._created(other)

    def __lt__(self, other: object) -> bool:
        return self != other and _utc(self.creation_time) < self._created(other)


def chariots_version_class() -> _VersionClass:
    """Chariots' ``Version`` when Chariots is importable, else :class:`ChariotsVersion`.

    An installed Chariots that fails to import counts as not importable: the
    PyPI 0.2.4 wheel lacks its ``versioning`` package (ImportError), and the
    targeted commit uses ``collections.MutableMapping``, gone since Python 3.10
    (AttributeError). The drop-in must not break on either.
    """
    try:
        from chariots.versioning import Version as Theirs  # type: ignore[import-not-found]
    except Exception:  # any failure while importing a third-party package: use ours
        return ChariotsVersion
    return Theirs  # type: ignore[no-any-return]


def _as_version(value: object, what: str) -> Version:
    """Any object whose ``str()`` is a version string (Chariots' own Version included)."""
    if isinstance(value, Version):
        return value
    if isinstance(value, ChariotsVersion):
        return value.to_version()
    text = value if isinstance(value, str) else str(value)
    try:
        return Version.parse(text)
    except InvalidVersionError as exc:
        raise InvalidVersionError(
            f"{what} {value!r} is not a version: its str() {text[:300]!r} is not a version "
            f"string ({exc.message})") from None


def _last_op_name(pipeline: _Pipeline) -> str:
    """The upstream op of the link whose downstream is None, as Chariots finds it."""
    for upstream, downstream in pipeline.get_all_op_links():
        if downstream is None:
            name = getattr(upstream, "name", None)
            if not isinstance(name, str):
                raise InvalidInputError(
                    f"the last op of pipeline {pipeline.name!r} has no string .name")
            return name
    raise InvalidInputError(f"cannot find the last op of pipeline {pipeline.name!r}: no link "
                            "has a None downstream")


class S3OpStoreClient:
    """Chariots' ``OpStoreClient`` methods over an :class:`OpStore`.

    ``version_class``: what returned versions are built with (its ``parse``
    gets the version string); by default :func:`chariots_version_class`.

    Loads honour retirement like the CLI and API: a deprecated version loads
    with a ``RetiredVersionWarning``, an archived one raises
    ``RetiredVersionError`` unless ``allow_archived`` (one more LIST per load).

    ``signer`` / ``trusted_keys`` (key objects or files; else
    ``S3OPSTORE_SIGNING_KEY`` / ``S3OPSTORE_TRUSTED_KEYS``) sign what it saves
    and refuse bytes no trusted key signed (design.md, D15), for a store given
    as a URL; an OpStore passed in keeps its own, unless these are given.
    """

    def __init__(self, store: OpStore | str | None = None, *,
                 version_class: _VersionClass | None = None,
                 allow_archived: bool = False, signer: SignerOption = None,
                 trusted_keys: TrustOption = None) -> None:
        if isinstance(store, OpStore):
            self.store = store.with_trust(signer=signer, trusted_keys=trusted_keys)
        else:
            self.store = OpStore.from_url(store, signer=signer, trusted_keys=trusted_keys)
        self.version_class = version_class or chariots_version_class()
        self.allow_archived = allow_archived

    def _returned(self, versions: set[Version]) -> set[Any] | None:
        return {self.version_class.parse(str(v)) for v in versions} or None

    def get_all_versions_of_op(self, desired_op: _Named) -> set[Any] | None:
        return self._returned({r.version for r in self.store.get_versions(desired_op.name)})

    def get_validated_links(self, downstream_op_name: str,
                            upstream_op_name: str) -> set[Any] | None:
        return self._returned(self.store.get_validated_links(downstream_op_name,
                                                             upstream_op_name))

    def get_op_bytes_for_version(self, desired_op: _Named, version: object) -> bytes:
        wanted = _as_version(version, "version")
        self.store.check_loadable(desired_op.name, wanted, allow_archived=self.allow_archived)
        return self.store.load_op_bytes(desired_op.name, wanted)

    def save_op_bytes(self, op_to_save: _Named, version: object, op_bytes: bytes) -> None:
        self.store.save_op_bytes(op_to_save.name, _as_version(version, "version"), op_bytes)

    def register_valid_link(self, downstream_op_name: str | None, upstream_op_name: str,
                            upstream_op_version: object) -> None:
        self.store.register_valid_link(downstream_op_name, upstream_op_name,
                                       _as_version(upstream_op_version, "upstream_op_version"))

    def pipeline_exists(self, pipeline_name: str) -> bool:
        return self.store.pipeline_exists(pipeline_name)

    def register_new_pipeline(self, pipeline: _Pipeline) -> None:
        self.store.register_pipeline(pipeline.name, _last_op_name(pipeline))
