"""deprecate, archive, hide from the CLI, and the model loader's checks."""

from __future__ import annotations

import json

import pytest

from s3opstore import Version
from s3opstore.registry.retire import RetiredVersionError, RetiredVersionWarning
from s3opstore.registry.uri import load_model, model_uri
from tests.cli.support import CliStore, run_cli

A = Version.from_parts(b"a")


def test_cli_and_loader_honour_the_status(local_store: CliStore,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = local_store.open()
    store.register_version("pca", A)
    store.save_op_bytes("pca", A, b"bytes")
    assert run_cli(capsys, local_store, "archive", "pca@1.0.0", "--reason", "bad").code == 0
    refused = run_cli(capsys, local_store, "pull", "pca", "-o", "-")
    assert refused.code == 3
    assert refused.err.startswith("error [invalid_input]: version ")
    assert "is archived (bad)" in refused.err
    with pytest.raises(RetiredVersionError):
        load_model(model_uri(local_store.url, "pca"))
    with pytest.warns(RetiredVersionWarning, match="is archived"):
        assert load_model(model_uri(local_store.url, "pca"), allow_archived=True)[1] == b"bytes"
    assert run_cli(capsys, local_store, "deprecate", "pca").code == 0
    pulled = run_cli(capsys, local_store, "pull", "pca", "-o", "-")
    assert (pulled.code, pulled.out) == (0, "bytes")
    assert "warning: version " in pulled.err and "is deprecated" in pulled.err
    assert run_cli(capsys, local_store, "hide", "pca").code == 0
    assert json.loads(run_cli(capsys, local_store, "--json", "ops").out) == {"ops": []}
    assert len(json.loads(run_cli(capsys, local_store, "--json", "ops", "--all").out)[
        "ops"]) == 1
    shown = json.loads(run_cli(capsys, local_store, "--json", "show", "pca").out)
    assert shown["status"] == "deprecated"
    assert run_cli(capsys, local_store, "fsck").code == 0
