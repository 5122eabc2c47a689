"""Registration metadata (immutable) and mutable tags (a kept history), on every backend."""

from __future__ import annotations

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import AlreadyExistsError, InvalidInputError, VersionNotFoundError

META = {"description": "PCA on the 2024 data", "tags": {"team": "vision"},
        "params": {"n_components": 8, "whiten": True}, "metrics": {"explained": 0.93},
        "source": {"commit": "3f2a1b9", "user": "ana"}}


def _keys(store: OpStore) -> list[str]:
    return sorted(info.key for info in store.store.list(""))


def test_metadata_is_stored_with_the_version_and_immutable(opstore: OpStore) -> None:
    version = Version.from_parts(b"a")
    record = opstore.register_version("pca", version, metadata=META)
    stored = opstore.get_metadata("pca", "1.0.0")
    assert stored is not None
    assert (stored.description, stored.tags, stored.params, stored.metrics, stored.source) == (
        META["description"], META["tags"], META["params"], META["metrics"], META["source"])
    assert opstore.register_version("pca", version, metadata=META) == record  # same: no-op
    before = _keys(opstore)
    with pytest.raises(AlreadyExistsError, match="registered with other metadata"):
        opstore.register_version("pca", version, metadata={**META, "description": "other"})
    assert _keys(opstore) == before
    opstore.register_version("pca", Version.from_parts(b"b"))
    assert opstore.get_metadata("pca") is None  # registered without metadata
    with pytest.raises(AlreadyExistsError, match="already registered without metadata"):
        opstore.register_version("pca", Version.from_parts(b"b"), metadata=META)


def test_bad_metadata_is_refused_before_any_write(opstore: OpStore) -> None:
    for bad, needle in (({"metrics": {"auc": float("nan")}}, "not a finite number"),
                        ({"metrics": {"auc": "high"}}, "not a number"),
                        ({"colour": "red"}, "colour"),
                        ({"tags": {"": "x"}}, "tags."),
                        ({"params": {"p": [1, 2]}}, "params.p")):
        with pytest.raises(InvalidInputError, match=needle):
            opstore.register_version("pca", Version.from_parts(b"a"), metadata=bad)
    assert _keys(opstore) == []


def test_mutable_tags_keep_their_history(opstore: OpStore) -> None:
    opstore.register_version("pca", Version.from_parts(b"a"))
    assert opstore.get_tags("pca") == {}
    opstore.set_tags("pca", {"owner": "ana", "stage": "dev"})
    opstore.set_tags("pca", {"stage": "prod"}, unset=["owner"])
    opstore.set_tags("pca", {"stage": "prod"})  # no change: no new position
    assert opstore.get_tags("pca") == {"stage": "prod"}
    assert [e.tags for e in opstore.tag_history("pca")] == [
        {"owner": "ana", "stage": "dev"}, {"stage": "prod"}]
    opstore.set_tags("pca", {"reviewed": "yes"}, version="1.0.0")
    assert opstore.get_tags("pca", "latest") == {"reviewed": "yes"}
    assert opstore.get_tags("pca") == {"stage": "prod"}  # the op's own tags are apart
    with pytest.raises(VersionNotFoundError):
        opstore.set_tags("pca", {"x": "y"}, version="9.0.0")
    with pytest.raises(InvalidInputError, match="both set and unset"):
        opstore.set_tags("pca", {"x": "y"}, unset=["x"])
