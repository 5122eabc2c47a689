"""Searching versions by tag, metric, time and alias, and ops by pattern and tag; pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import AliasNotFoundError, InvalidInputError


@pytest.fixture
def store() -> OpStore:
    store = OpStore.from_url("memory://")
    for index, (auc, team) in enumerate([(0.80, "a"), (0.93, "b"), (0.95, "a"), (0.70, "b")]):
        store.register_version("clf", Version.from_parts(str(index)),
                               metadata={"metrics": {"auc": auc}, "tags": {"team": team}})
    store.register_version("clf", Version.from_parts(b"no-metadata"))
    store.set_tags("clf", {"stage": "prod"}, version="3.0.0")
    store.set_alias("clf", "production", store.resolve("clf", "2.0.0").version)
    return store


def numbers(page: object) -> list[str]:
    return [hit.record.number_text for hit in page.items]  # type: ignore[attr-defined]


def test_filters_combine(store: OpStore) -> None:
    assert numbers(store.search_versions("clf")) == ["1.0.0", "2.0.0", "3.0.0", "4.0.0",
                                                      "5.0.0"]
    assert numbers(store.search_versions("clf", metrics=["auc>=0.9"])) == ["2.0.0", "3.0.0"]
    assert numbers(store.search_versions("clf", metrics=["auc>0.75", "auc<0.94"])) == [
        "1.0.0", "2.0.0"]
    assert numbers(store.search_versions("clf", tags={"team": "a"})) == ["1.0.0", "3.0.0"]
    assert numbers(store.search_versions("clf", tags={"stage": "prod"})) == ["3.0.0"]  # mutable
    assert numbers(store.search_versions("clf", tags={"team": "a"},
                                         metrics=["auc>=0.9"])) == ["3.0.0"]
    assert numbers(store.search_versions("clf", alias="production")) == ["2.0.0"]
    with pytest.raises(AliasNotFoundError):
        store.search_versions("clf", alias="staging")
    now = datetime.now(UTC)
    assert numbers(store.search_versions("clf", registered_after=now + timedelta(hours=1))) == []
    assert len(store.search_versions("clf", registered_before=now + timedelta(hours=1)).items) == 5


def test_pages_continue_where_the_last_stopped(store: OpStore) -> None:
    first = store.search_versions("clf", limit=2)
    assert (numbers(first), first.next_after) == (["1.0.0", "2.0.0"], "1")
    second = store.search_versions("clf", limit=2, after=first.next_after)
    assert (numbers(second), second.next_after) == (["3.0.0", "4.0.0"], "3")
    last = store.search_versions("clf", limit=2, after=second.next_after)
    assert (numbers(last), last.next_after) == (["5.0.0"], None)
    for bad in ({"limit": 0}, {"limit": 1001}, {"after": "x"}, {"metrics": ["auc ~ 3"]}):
        with pytest.raises(InvalidInputError):
            store.search_versions("clf", **bad)


def test_ops_by_pattern_and_tag(store: OpStore) -> None:
    for op in ("pca", "pca_small", "scaler"):
        store.register_version(op, Version.from_parts(b"x"))
    store.set_tags("pca_small", {"team": "vision"})
    assert store.search_ops("pca*").items == ["pca", "pca_small"]
    assert store.search_ops(tags={"team": "vision"}).items == ["pca_small"]
    page = store.search_ops(limit=2)
    assert (page.items, page.next_after) == (["clf", "pca"], "pca")
    assert store.search_ops(limit=2, after="pca").items == ["pca_small", "scaler"]
