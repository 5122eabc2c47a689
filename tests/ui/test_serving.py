"""How `serve` hands out the UI (headers, guards) and the read routes behind its pages."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests

import s3opstore.api
from s3opstore.api import ApiRequest, handle
from s3opstore.api.webui import CONTENT_SECURITY_POLICY
from s3opstore.models.keys import versions_prefix
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.stores.memory import MemoryStore
from tests.api.serving import Served

UI_FILES = sorted(entry.name for entry in resources.files("s3opstore.ui").iterdir()
                  if entry.name.endswith((".html", ".css", ".js", ".svg")))


def test_pages_come_with_a_strict_policy(served: Served) -> None:
    for name in ["", *UI_FILES]:
        answer = requests.get(f"{served.url}/ui/{name}", timeout=30)
        assert answer.status_code == 200, name
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    page = requests.get(f"{served.url}/ui/", timeout=30)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    # no inline script or style for the policy to forbid: every script is a file we ship
    assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="app.js">']
    assert " style=" not in page.text and "<style" not in page.text


def test_the_pages_never_build_markup_from_strings() -> None:
    for name in UI_FILES:
        text = resources.files("s3opstore.ui").joinpath(name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                     "new Function", "http://", "https://"):
            assert sink not in text.replace("http://www.w3.org/2000/svg", ""), (name, sink)


def test_only_get_of_shipped_files(served: Served) -> None:
    moved = requests.get(f"{served.url}/ui", timeout=30, allow_redirects=False)
    assert (moved.status_code, moved.headers["Location"]) == (308, "/ui/")
    assert requests.post(f"{served.url}/ui/", timeout=30).status_code == 405
    for path in ("/ui/nope.js", "/ui/__init__.py", "/ui/../pyproject.toml",
                 "/ui/%2e%2e/pyproject.toml", "/ui/sub/app.js"):
        assert requests.get(served.url + path, timeout=30).status_code == 404, path


def test_the_ui_origin_may_read_but_never_write(served: Served) -> None:
    own = served.url  # http://127.0.0.1:<port>, which is what a page of /ui/ sends as Origin
    json_headers = {"Content-Type": "application/json"}

    def post(route: str, body: dict[str, Any], origin: str) -> int:
        return requests.post(f"{served.url}/v1/{route}", data=json.dumps(body), timeout=30,
                             headers={**json_headers, "Origin": origin}).status_code

    assert post("browse_ops", {}, own) == 200
    assert post("browse_ops", {}, "http://evil.example") == 403
    assert post("browse_ops", {}, "null") == 403
    assert post("register_new_pipeline", {"pipeline_name": "p", "last_op_name": "o"}, own) == 403
    rebinding = requests.get(f"{served.url}/ui/", headers={"Host": "evil.example"}, timeout=30)
    assert rebinding.status_code == 403


def _version(i: int) -> Version:
    return Version.from_parts(major=b"m", minor=f"{i}".encode(),
                              creation_time=datetime(2024, 1, 1) + timedelta(minutes=i))


@pytest.fixture
def seven() -> OpStore:
    store = OpStore(MemoryStore())
    for i in range(7):
        store.register_version("op", _version(i))
    store.save_op_bytes("op", _version(6), b"abc")
    return store


def _call(store: OpStore, route: str, body: dict[str, Any]) -> tuple[int, Any]:
    answer = handle(ApiRequest("POST", f"/v1/{route}", {}, json.dumps(body).encode()), store)
    return answer.status, json.loads(answer.body)


def test_browse_op_pages_newest_first(seven: OpStore) -> None:
    status, first = _call(seven, "browse_op", {"op_name": "op", "per_page": 3})
    assert status == 200
    assert (first["total"], first["pages"], first["page"]) == (7, 3, 1)
    assert [row["info"]["seq"] for row in first["versions"]] == [6, 5, 4]
    assert first["versions"][0]["bytes"]["size"] == 3
    assert first["versions"][1]["bytes"] is None
    _, last = _call(seven, "browse_op", {"op_name": "op", "per_page": 3, "page": 3})
    assert [row["info"]["seq"] for row in last["versions"]] == [0]
    _, beyond = _call(seven, "browse_op", {"op_name": "op", "per_page": 3, "page": 99})
    assert beyond["page"] == 3 and beyond["versions"] == last["versions"]
    for bad in ({"per_page": 0}, {"per_page": 201}, {"page": 0}, {"page": "2"}):
        assert _call(seven, "browse_op", {"op_name": "op", **bad})[0] == 400, bad
    assert _call(seven, "browse_op", {"op_name": "nobody"})[0] == 404


def test_browse_routes_write_nothing(seven: OpStore) -> None:
    seven.register_valid_link("down", "op", _version(6))
    seven.register_pipeline("pipe", "down")
    seven.set_alias("op", "prod", _version(2))
    before = sorted(info.key for info in seven.store.list(""))
    for route, body in [("browse_ops", {}), ("browse_op", {"op_name": "op"}),
                        ("browse_version", {"op_name": "op", "version": str(_version(2))}),
                        ("lineage", {}), ("lineage", {"op_name": "op"}),
                        ("lineage", {"pipeline_name": "pipe"}),
                        ("browse_pipeline", {"pipeline_name": "pipe"})]:
        assert _call(seven, route, body)[0] == 200, route
    assert sorted(info.key for info in seven.store.list("")) == before
    _, version = _call(seven, "browse_version", {"op_name": "op", "version": str(_version(6))})
    assert version["downstream"] == ["down"] and version["aliases"] == []
    _, aliased = _call(seven, "browse_version", {"op_name": "op", "version": str(_version(2))})
    assert aliased["aliases"] == ["prod"] and aliased["downstream"] == []


def test_the_api_never_reaches_the_cli() -> None:
    # Pipeline resolution now lives in the registry (OpStore.resolve_pipeline); the UI's
    # pipeline page used to import it from the CLI, an upward reach this test now forbids.
    api = Path(s3opstore.api.__file__).parent
    reaching = [(path.name, line.strip()) for path in sorted(api.glob("*.py"))
                for line in path.read_text().splitlines() if "s3opstore.cli" in line]
    assert reaching == []


def test_browse_op_reads_only_the_page_and_skips_foreign_keys(seven: OpStore) -> None:
    seven.set_alias("op", "prod", _version(2))
    seven.set_alias("op", "prod", _version(6))
    seven.store.put(f"{versions_prefix('op')}junk/not-an-entry.json", b"{}")
    answer = handle(ApiRequest("POST", "/v1/browse_op", {}, json.dumps(
        {"op_name": "op", "per_page": 2, "page": 2}).encode()), seven)
    assert answer.status == 200
    assert answer.headers["S3opstore-Skipped-Keys"] == "1"
    body = json.loads(answer.body)
    assert body["total"] == 7
    assert [(r["info"]["seq"], r["info"]["number"]) for r in body["versions"]] == [
        (4, "1.4.0"), (3, "1.3.0")]
    [prod] = body["aliases"]
    assert [(e["seq"], e["number"]) for e in prod["history"]] == [(1, "1.6.0"), (0, "1.2.0")]
    assert prod["number"] == "1.6.0"


def test_browse_op_sees_a_version_registered_after_it_listed(seven: OpStore) -> None:
    assert _call(seven, "browse_op", {"op_name": "op"})[1]["total"] == 7
    seven.register_version("op", _version(7))
    _, after = _call(seven, "browse_op", {"op_name": "op", "per_page": 2})
    assert after["total"] == 8
    assert [row["info"]["seq"] for row in after["versions"]] == [7, 6]
    _, second = _call(seven, "browse_op", {"op_name": "op", "per_page": 2, "page": 2})
    assert [row["info"]["seq"] for row in second["versions"]] == [5, 4]
