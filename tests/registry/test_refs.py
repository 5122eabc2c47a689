"""Version references: latest, numbers, version strings, aliases, id prefixes, op@ref."""

from __future__ import annotations

from datetime import datetime

import pytest

from s3opstore import OpStore, Version
from s3opstore.cli.output import short_version
from s3opstore.errors import (
    AliasNotFoundError,
    InvalidInputError,
    OpNotFoundError,
    VersionNotFoundError,
)
from s3opstore.registry.refs import split_op_ref


def v(major: str, minor: str = "", patch: str = "") -> Version:
    return Version.from_parts(major=major, minor=minor, patch=patch,
                              creation_time=datetime(2021, 3, 4, 5, 6, 7, 89))


@pytest.fixture
def store() -> OpStore:
    store = OpStore.from_url("memory://")
    for version in (v("a"), v("a", "x"), v("b")):
        store.register_version("pca", version)
    store.set_alias("pca", "production", v("a", "x"))
    return store


def test_every_kind_of_reference_names_the_same_records(store: OpStore) -> None:
    middle = v("a", "x")
    assert store.resolve("pca").version == v("b")
    assert store.resolve("pca", "latest").version == v("b")
    assert store.resolve("pca", "1.1.0").version == middle
    assert store.resolve("pca", str(middle)).version == middle
    assert store.resolve("pca", middle).version == middle
    assert store.resolve("pca", "production").version == middle
    assert store.resolve("pca@production").version == middle
    assert store.resolve("pca@1.0.0").version == v("a")
    assert store.resolve("pca", short_version(middle)).version == middle
    assert store.resolve("pca", v("b").major[:6]).version == v("b")
    assert store.resolve("pca", f"{middle.major[:5]}.{middle.minor[:5]}").version == middle


def test_a_missing_number_is_not_reported_as_an_alias(store: OpStore) -> None:
    with pytest.raises(VersionNotFoundError, match=r"no version numbered 1\.9\.0 "
                                                   r"\(numbers 1\.0\.0 to 2\.0\.0\)"):
        store.resolve("pca", "1.9.0")
    with pytest.raises(AliasNotFoundError, match="has no alias 'staging'"):
        store.resolve("pca", "staging")
    with pytest.raises(VersionNotFoundError, match="starting with 'ffff0000'"):
        store.resolve("pca", "ffff0000")
    with pytest.raises(OpNotFoundError, match="'nope' has no registered versions"):
        store.resolve("nope@production")
    with pytest.raises(OpNotFoundError):
        store.resolve("nope", "1.0.0")


def test_an_ambiguous_prefix_is_refused_naming_the_candidates(store: OpStore) -> None:
    shared = v("a").major  # 1.0.0 and 1.1.0 share their major hash
    with pytest.raises(InvalidInputError, match=r"ambiguous: it matches versions 1\.0\.0, 1\.1\.0"):
        store.resolve("pca", shared[:8])


def test_aliases_that_would_read_as_something_else_are_refused(store: OpStore) -> None:
    keys = sorted(info.key for info in store.store.list(""))
    for name in ("latest", "1.2.0"):
        with pytest.raises(InvalidInputError, match=repr(name)):
            store.set_alias("pca", name, v("b"))
    assert sorted(info.key for info in store.store.list("")) == keys


def test_op_at_ref_splitting() -> None:
    assert split_op_ref("pca@production") == ("pca", "production")
    assert split_op_ref("team@x@1.0.0") == ("team@x", "1.0.0")
    assert split_op_ref("pca", "latest") == ("pca", "latest")
    for bad in ("@x", "pca@"):
        with pytest.raises(InvalidInputError, match=repr(bad)):
            split_op_ref(bad)


def test_pipeline_resolution_lives_in_the_registry(store: OpStore) -> None:
    store.register_pipeline("pipe", "model")
    store.register_valid_link("model", "pca", v("a", "x"))
    store.register_version("model", v("m"))
    result = store.resolve_pipeline("pipe")
    assert result.ok
    assert [(op.op_name, op.record.number_text) for op in result.ops] == [
        ("model", "1.0.0"), ("pca", "1.1.0")]
