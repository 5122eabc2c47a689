"""Bad input never gets a 500 and never writes; no name escapes the store prefix.

Hypothesis generates bodies, paths, methods and names; after each refused
request the whole bucket is listed and compared with its state before.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from s3opstore.api import ROUTES
from s3opstore.errors import InvalidNameError
from s3opstore.models.names import check_name
from s3opstore.models.version import Version
from tests.api.conftest import Api

VERSION = str(Version.from_parts(b"seeded", creation_time=datetime(2020, 5, 6, 7, 8, 9)))


def _valid_name(name: str) -> bool:
    try:
        check_name(name)
    except InvalidNameError:
        return False
    return True

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12)
FIELD_NAMES = sorted({name for route in ROUTES for name in route.request.model_fields}
                     | {"bytes"})
route_names = st.sampled_from([route.name for route in ROUTES])
hostile_names = st.one_of(
    st.sampled_from(["..", ".", "", "../x", "../../etc/passwd", "a/b", "a%2Fb", "%2e%2e%2f",
                     "..%2f..%2fescape", "a\x00b", "\x00", "a\\b", "/abs", "x/../../y", " a",
                     "a" * 201, "ops/../..", "-dash", ".hidden", "ｆｕｌｌ", "a\nb", "a?b",
                     "a#b", "a b"]),
    st.text(min_size=0, max_size=40))


def _seed(api: Api) -> None:
    """Some legitimate content, so that 'nothing changed' compares real listings."""
    status, _ = api.post("register_valid_link", {"downstream_op_name": "down",
                                                 "upstream_op_name": "up",
                                                 "upstream_op_version": VERSION})
    assert status == 200
    assert api.post("save_op_bytes", {"op_name": "up", "version": VERSION,
                                      "bytes": "c2VlZA=="})[0] == 200


@pytest.fixture
def seeded(api: Api) -> Api:
    """Seeded once per test (hypothesis reuses it across examples)."""
    _seed(api)
    return api


def _assert_refused_without_writes(api: Api, before: list[str], status: int) -> None:
    assert status < 500
    if status >= 400:
        assert api.bucket_keys() == before


@FUZZ
@given(name=route_names, body=json_values)
def test_arbitrary_json_bodies(api: Api, name: str, body: Any) -> None:
    before = api.bucket_keys()
    response = api.raw("POST", f"/v1/{name}", json.dumps(body).encode())
    _assert_refused_without_writes(api, before, response.status)


@FUZZ
@given(name=route_names, raw=st.binary(max_size=200))
def test_arbitrary_bytes_bodies(api: Api, name: str, raw: bytes) -> None:
    before = api.bucket_keys()
    response = api.raw("POST", f"/v1/{name}", raw)
    _assert_refused_without_writes(api, before, response.status)
    assert json.loads(response.body) is not None or response.status == 200


@FUZZ
@given(name=route_names, body=st.dictionaries(st.sampled_from(FIELD_NAMES), json_values,
                                              max_size=6))
def test_bodies_with_real_field_names_and_wrong_values(api: Api, name: str,
                                                       body: dict[str, Any]) -> None:
    before = api.bucket_keys()
    response = api.raw("POST", f"/v1/{name}", json.dumps(body).encode())
    _assert_refused_without_writes(api, before, response.status)


@FUZZ
@given(method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
                               "post", "POST "]) | st.text(max_size=10),
       path=st.one_of(st.text(max_size=60).map(lambda t: "/" + t),
                      st.text(max_size=30).map(lambda t: "/v1/" + t),
                      st.sampled_from(["/v1/../v1/list_ops", "/v1/%2e%2e/list_ops",
                                       "/v1/list_ops%2F..", "/v1//list_ops", "//v1/list_ops",
                                       "/v1/list_ops\x00", "/V1/list_ops", ""])))
def test_arbitrary_methods_and_paths(seeded: Api, method: str, path: str) -> None:
    api = seeded
    before = api.bucket_keys()
    response = api.raw(method, path, b'{"op_name": "x"}')
    assert response.status in (400, 404, 405) or (
        response.status == 200 and method.upper() == "POST")
    assert api.bucket_keys() == before
    body = json.loads(response.body)
    if response.status >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}


def _bodies_with(name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every route whose body takes a name, with ``name`` in each name field in turn."""
    valid: dict[str, Any] = {
        "desired_op_name": "up", "downstream_op_name": "down", "upstream_op_name": "up",
        "op_name": "up", "pipeline_name": "p", "last_op_name": "last", "alias": "prod",
        "version": VERSION, "upstream_op_version": VERSION, "bytes": "eA==",
        "sha256": "0" * 64, "size": 1, "ref": "latest", "state": "deprecated"}
    cases = []
    for route in ROUTES:
        fields = route.request.model_fields
        for field in fields:
            if field in ("desired_op_name", "downstream_op_name", "upstream_op_name",
                         "op_name", "pipeline_name", "last_op_name", "alias"):
                body = {(f.alias or key): valid[f.alias or key] for key, f in fields.items()
                        if (f.alias or key) in valid}
                body[field] = name
                cases.append((route.name, body))
    return cases


@FUZZ
@given(name=hostile_names)
def test_invalid_names_are_refused_before_any_request(seeded: Api, name: str) -> None:
    assume(not _valid_name(name))
    api = seeded
    before = api.bucket_keys()
    for route, body in _bodies_with(name):
        status, answer = api.post(route, body)
        assert status == 400, (route, body, answer)
        assert answer["error"]["type"] in ("invalid_name", "invalid_input")
    assert api.bucket_keys() == before


@pytest.mark.parametrize("name", ["../escape", "..%2fescape", "%2e%2e%2fescape", "a/../../b",
                                  "a%2F..%2F..%2Fb", "..\\escape", "a\x00/../b", "..", "."])
def test_prefix_escape_attempts_never_leave_the_prefix(api: Api, name: str) -> None:
    """Path tricks are names like any other (Chariots accepts them): stored encoded."""
    _seed(api)
    for route, body in _bodies_with(name):
        status, answer = api.post(route, body)
        if _valid_name(name):
            assert status in (200, 404) or answer["error"]["type"] == "already_exists", (
                route, answer)
        else:
            assert status == 400, route
    for method in ("POST", "GET"):
        api.raw(method, f"/v1/{name}", b"{}")
        api.raw(method, f"/v1/save_op_bytes/{name}", b"{}")
    keys = api.bucket_keys()
    assert keys, "the seeded content is listed"
    assert all(key.startswith(api.prefix + "/") for key in keys), keys
    assert not any(".." in key.split("/") or "%" in key or "\x00" in key for key in keys)


def test_names_that_look_odd_but_are_valid_stay_inside(api: Api) -> None:
    """Dots inside names are legal; they never form a '..' segment."""
    for name in ("a..b", "x.y", "_under", "a-b", "0"):
        assert api.post("register_valid_link", {"downstream_op_name": None,
                                                "upstream_op_name": name,
                                                "upstream_op_version": VERSION})[0] == 200
    keys = api.bucket_keys()
    assert all(key.startswith(api.prefix + "/") for key in keys)
    assert not any(segment in ("..", ".") for key in keys for segment in key.split("/"))
