"""Metadata at registration, shown by show; mutable tags with the tag command."""

from __future__ import annotations

import json

import pytest

from tests.cli.support import CliStore, run_cli

CapSys = pytest.CaptureFixture[str]


def test_register_metadata_show_and_tags(local_store: CliStore, capsys: CapSys) -> None:
    registered = run_cli(capsys, local_store, "register", "clf", "--major", "text:depth=3",
                         "--description", "first fit", "--tag", "team=vision",
                         "--param", "depth=3", "--param", "kind=tree", "--metric", "auc=0.91",
                         "--source", "commit=3f2a1b9", "--source", "user=ana")
    assert registered.code == 0, registered.err
    assert run_cli(capsys, local_store, "tag", "set", "clf@1.0.0", "stage=prod").code == 0
    assert run_cli(capsys, local_store, "tag", "set", "clf", "owner=ana").code == 0
    shown = run_cli(capsys, local_store, "--json", "show", "clf@latest")
    body = json.loads(shown.out)
    assert body["metadata"] == {"description": "first fit", "tags": {"team": "vision"},
                                "params": {"depth": 3, "kind": "tree"},
                                "metrics": {"auc": 0.91},
                                "source": {"commit": "3f2a1b9", "user": "ana"}}
    assert body["tags"] == {"stage": "prod"}
    table = run_cli(capsys, local_store, "show", "clf")
    for row in ("first fit", "metric auc", "0.91", "source commit", "tag (mutable) stage"):
        assert row in table.out, row
    moved = run_cli(capsys, local_store, "--json", "tag", "set", "clf", "--unset", "owner")
    assert json.loads(moved.out) == {"op": "clf", "version": None, "tags": {}}
    history = run_cli(capsys, local_store, "--json", "tag", "history", "clf")
    assert [h["tags"] for h in json.loads(history.out)["history"]] == [{"owner": "ana"}, {}]
    bad = run_cli(capsys, local_store, "register", "clf", "--metric", "auc=high")
    assert bad.err == "error [invalid_input]: --metric auc='high': not a number\n"
    again = run_cli(capsys, local_store, "register", "clf", "--major", "text:depth=3",
                    "--description", "changed")
    assert again.code == 3
    assert again.err.startswith("error [already_exists]: version ")
    checked = run_cli(capsys, local_store, "--json", "fsck")
    assert checked.code == 0, checked.out
    assert "unknown key" not in checked.out  # metadata and tag keys are part of the layout


def test_alias_delete_keeps_the_history(local_store: CliStore, capsys: CapSys) -> None:
    assert run_cli(capsys, local_store, "register", "clf", "--major", "text:a",
                   "--alias", "prod").code == 0
    deleted = run_cli(capsys, local_store, "alias", "delete", "clf", "prod", "--expect", "1.0.0")
    assert deleted.code == 0, deleted.err
    assert deleted.out.startswith("deleted clf@prod (it pointed at ")
    listed = run_cli(capsys, local_store, "--json", "alias", "list", "clf")
    assert json.loads(listed.out)["aliases"] == []
    history = run_cli(capsys, local_store, "--json", "alias", "history", "clf", "prod")
    assert [h["deleted"] for h in json.loads(history.out)["history"]] == [False, True]
    gone = run_cli(capsys, local_store, "show", "clf@prod")
    assert gone.err.startswith("error [alias_not_found]: alias 'prod' of op 'clf' was deleted")


def test_search_versions_and_ops(local_store: CliStore, capsys: CapSys) -> None:
    for index, auc in enumerate(("0.8", "0.95", "0.97")):
        assert run_cli(capsys, local_store, "register", "clf", "--major", f"text:{index}",
                       "--metric", f"auc={auc}", "--tag", f"team={'ab'[index % 2]}").code == 0
    found = run_cli(capsys, local_store, "--json", "search", "versions", "clf",
                    "--metric", "auc>=0.9", "--tag", "team=a")
    body = json.loads(found.out)
    assert [(v["number"], v["metrics"]) for v in body["versions"]] == [("3.0.0", {"auc": 0.97})]
    first = run_cli(capsys, local_store, "search", "versions", "clf", "--limit", "2")
    assert first.err == "more: add --after 1\n"
    rest = run_cli(capsys, local_store, "--json", "search", "versions", "clf", "--after", "1")
    assert [v["number"] for v in json.loads(rest.out)["versions"]] == ["3.0.0"]
    ops = run_cli(capsys, local_store, "--json", "search", "ops", "c*")
    assert json.loads(ops.out) == {"ops": ["clf"], "next_after": None}
    bad = run_cli(capsys, local_store, "search", "versions", "clf", "--metric", "auc~1")
    assert bad.err.startswith("error [invalid_input]: metric filter 'auc~1' is not")
