"""Model URIs and the loader helper, on a local store and on SeaweedFS."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3opstore import OpStore, Version
from s3opstore.errors import InvalidInputError
from s3opstore.registry.retire import RetiredVersionError, RetiredVersionWarning
from s3opstore.registry.uri import ModelUri, load_model, model_uri, parse_model_uri
from tests.cli.support import make_cli_store


def test_parsing_and_building_round_trip() -> None:
    assert parse_model_uri("s3opstore://bucket/team/registry/pca@production") == ModelUri(
        "s3://bucket/team/registry", "pca", "production")
    assert parse_model_uri("s3opstore://bucket/pca") == ModelUri("s3://bucket", "pca", "latest")
    assert parse_model_uri("s3opstore+file:///srv/store/a%2Fb%40c@1.2.0") == ModelUri(
        "file:///srv/store", "a/b@c", "1.2.0")
    uri = model_uri("s3://bucket/p", "inner pipe", "1.0.0")
    assert uri == "s3opstore://bucket/p/inner%20pipe@1.0.0"
    assert parse_model_uri(uri) == ModelUri("s3://bucket/p", "inner pipe", "1.0.0")
    for bad in ("s3://bucket/pca", "s3opstore:///pca", "s3opstore://bucket/", "s3opstore://b/@x",
                "s3opstore://b/pca?x=1"):
        with pytest.raises(InvalidInputError, match="model URI"):
            parse_model_uri(bad)


@pytest.mark.parametrize("backend", ["local", "seaweedfs"])
def test_load_model_resolves_and_verifies(backend: str, request: pytest.FixtureRequest,
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    where = make_cli_store(backend, request, tmp_path, monkeypatch)
    store = OpStore.from_url(where.url)
    first, second = Version.from_parts(b"a"), Version.from_parts(b"b")
    for version, data in ((first, b"one"), (second, b"two")):
        store.register_version("pca", version)
        store.save_op_bytes("pca", version, data)
    store.set_alias("pca", "production", first)
    record, data = load_model(model_uri(where.url, "pca", "production"))
    assert (record.version, data) == (first, b"one")
    record, data = load_model(model_uri(where.url, "pca"), cache_dir=tmp_path / "cache")
    assert (record.number_text, data) == ("2.0.0", b"two")
    assert any((tmp_path / "cache").rglob("*"))  # went through the blob cache


@pytest.mark.parametrize("cache", [False, True])
def test_load_model_honours_retirement_once(cache: bool, tmp_path: Path) -> None:
    """Through the blob cache or not: one warning for an allowed archived version, a refusal
    without ``allow_archived``."""
    url = (tmp_path / "store").as_uri()
    store = OpStore.from_url(url)
    version = Version.from_parts(b"a")
    store.register_version("pca", version)
    store.save_op_bytes("pca", version, b"one")
    store.set_version_status("pca", version, "archived", reason="leaked")
    cache_dir = tmp_path / "cache" if cache else None
    with pytest.raises(RetiredVersionError, match=r"archived \(leaked\)"):
        load_model(model_uri(url, "pca", "latest"), cache_dir=cache_dir)
    with pytest.warns(RetiredVersionWarning) as caught:
        assert load_model(model_uri(url, "pca"), cache_dir=cache_dir,
                          allow_archived=True)[1] == b"one"
    assert len(caught) == 1
