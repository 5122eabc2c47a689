"""Hostile input: classic attacks and hypothesis-generated garbage, on every face.

For the Python API, the HTTP API's ``handle()`` and the S3 backend: what
cannot be a name or version gets a typed :class:`InvalidInputError` (4xx
over HTTP) and never a store request (so never a write). Path tricks such as
``../etc/passwd`` are names to Chariots, so they are accepted and stored
under their own encoded key segment: never a key outside the store's prefix,
nor under another op (the whole bucket / directory is listed afterwards). A
manifest edited by hand into garbage gives a :class:`CorruptManifestError`
naming its key; the rest of the registry keeps working and fsck reports it.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from s3opstore.api import handle
from s3opstore.api.handler import SKIPPED_HEADER
from s3opstore.api.types import ApiRequest
from s3opstore.errors import CorruptManifestError, InvalidInputError, S3OpStoreError
from s3opstore.maintenance.fsck import fsck
from s3opstore.models.keys import alias_head_key
from s3opstore.models.names import check_name, encode_name
from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.registry.refs import check_alias_name
from s3opstore.stores import LocalStore, MemoryStore
from s3opstore.stores.s3 import S3Store
from s3opstore.testing.faults import WRITE_PRIMITIVES, FaultInjector
from tests.reliability import figures
from tests.reliability.invariants import check_invariants
from tests.reliability.paths import v

V1 = v("a", at=1)
GOOD_VERSION = str(V1)

ATTACKS = [
    "", " ", ".", "..", "...", "../", "../etc/passwd", "..\\..\\windows", "a/../../b", "/abs",
    "a/b", "a//b", "..%2f", "..%2F..%2Fetc", "%2e%2e%2f", "%2e%2e/", "a%2fb", "a%252fb",
    "a%00b", "a\x00b", "\x00", "nul\x00.json", "a\nb", "a\rb", "a\tb", "a b", "-rf", ".hidden",
    "a\u2215b", "a\u2044b", "\uff0e\uff0e", "\uff0e\uff0e\uff0fetc", "a\uff0fb", "\u2024\u2024",
    "\u0430lpha", "e\u0301", "\u202eevil", "\ufeffop", "\u200bop", "op\udcff", "\U0001f600",
    "x" * 201, "x" * 10_000, "x" * 1_000_000, "$(rm -rf /)", "`id`", "' OR 1=1 --",
    "<script>", "{{7*7}}", "%s%s%s%n", "a:b", "a*b", "a?b", "a#b", "~user",
]

def _is_name(value: str) -> bool:
    try:
        check_name(value)
    except InvalidInputError:
        return False
    return True


# What cannot be a name (empty, control characters, lone surrogates, too long)...
REFUSED_NAMES = [a for a in ATTACKS if not _is_name(a)]
# ...and the tricks that are names: encoded, they stay one segment inside the prefix.
NAME_TRICKS = [a for a in ATTACKS if _is_name(a)]
VERSION_ATTACKS = [
    *ATTACKS, GOOD_VERSION.replace("_", "_../../"), "../../" + GOOD_VERSION,
    GOOD_VERSION.split("_")[0] + "_9999999-01-01", GOOD_VERSION.split("_")[0] + "_2020-13-45",
    GOOD_VERSION.split("_")[0] + "_" + "9" * 5000, GOOD_VERSION.upper(),
    GOOD_VERSION.replace("a", "\uff41"), "a.b.c_2020-01-01",
    ".".join(["0" * 40] * 4) + "_2020-01-01", ".".join(["0" * 40] * 2) + "_2020-01-01",
    GOOD_VERSION.split("_")[0] + "/x_2020-01-01",
]
# CPython's datetime.fromisoformat takes a NUL as the date/time separator and
# ignores a trailing NUL: these parse to V1 itself (the NUL never reaches a key).
LENIENT_VERSIONS = [GOOD_VERSION + "\x00", GOOD_VERSION.replace(" ", "\x00")]
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    TALLY.clear()
    yield
    figures.record("hostile", dict(TALLY))


def _populated(inner: Any) -> tuple[OpStore, FaultInjector]:
    OpStore(inner).register_pipeline("pipe", "op")
    clean = OpStore(inner)
    clean.register_version("op", V1)
    clean.save_op_bytes("op", V1, b"model")
    clean.set_alias("op", "prod", V1)
    recorder = FaultInjector(inner)
    return OpStore(recorder), recorder


def _calls(store: OpStore, value: Any) -> list[Callable[[], object]]:
    """Every public call with ``value`` in one name-like position."""
    return [
        lambda: store.register_version(value, V1),
        lambda: store.get_versions(value),
        lambda: store.latest_version(value),
        lambda: store.save_op_bytes(value, V1, b"x"),
        lambda: store.load_op_bytes(value, V1),
        *([] if value is None else [  # None downstream: end of pipeline, valid
            lambda: store.register_valid_link(value, "op", V1)]),
        lambda: store.register_valid_link("down", value, V1),
        lambda: store.get_validated_links(value, "op"),
        lambda: store.register_pipeline(value, "op"),
        lambda: store.register_pipeline("pipe2", value),
        lambda: store.pipeline_exists(value),
        lambda: store.get_pipeline(value),
        lambda: store.set_alias(value, "prod", V1),
        lambda: store.set_alias("op", value, V1),
        lambda: store.get_alias("op", value),
        lambda: store.list_aliases(value),
        lambda: store.resolve("op", value) if "_" not in str(value) else store.resolve(value),
    ]


def _version_calls(store: OpStore, value: Any) -> list[Callable[[], object]]:
    return [
        lambda: store.register_version("op", value),
        lambda: store.get_version("op", value),
        lambda: store.save_op_bytes("op", value, b"x"),
        lambda: store.load_op_bytes("op", value),
        lambda: store.register_valid_link("down", "op", value),
        lambda: store.set_alias("op", "prod", value),
        *([] if value is None or not isinstance(value, str) else [  # see the xfail below
            lambda: store.set_alias("op", "prod", V1, expected=value)]),
    ]


def _refused_without_io(call: Callable[[], object], recorder: FaultInjector,
                        what: str) -> None:
    recorder.reset()
    with pytest.raises(InvalidInputError):
        call()
    assert recorder.calls == [], f"{what}: store requests before refusing: {recorder.calls[:3]}"
    TALLY["python api calls refused"] += 1


def test_the_attack_lists_cover_both_outcomes() -> None:
    assert len(REFUSED_NAMES) >= 10 and len(NAME_TRICKS) >= 40
    assert {"", "a\x00b", "op\udcff", "x" * 201} <= set(REFUSED_NAMES)
    assert {"../etc/passwd", "a/b", "..", "a b", "\u202eevil"} <= set(NAME_TRICKS)


@pytest.mark.parametrize("attack", REFUSED_NAMES, ids=lambda a: repr(a[:20]))
def test_python_api_refuses_bad_names_before_any_request(attack: str) -> None:
    store, recorder = _populated(MemoryStore())
    for index, call in enumerate(_calls(store, attack)):
        _refused_without_io(call, recorder, f"call {index} with {attack[:30]!r}")


def _own_keys(name: str) -> tuple[str, ...]:
    """The key prefixes a call naming ``name`` in one position may write under."""
    seg = encode_name(name)
    return (f"ops/{seg}/", f"aliases/op/{seg}/", f"aliases/{seg}/", f"alias-heads/op/{seg}.json",
            f"alias-heads/{seg}/", f"links/{seg}/",
            f"links/down/{seg}/", f"pipelines/{seg}.json", "pipelines/pipe2.json",
            "ops/op/", "ops/down/", "links/down/op/", "_s3opstore/probe/",
            f"events/op/{seg}/", "events/op/op/", "events/op/down/", "events/store/",
            f"events/links/{seg}/", "events/links/op/")


@pytest.mark.parametrize("trick", NAME_TRICKS, ids=lambda a: repr(a[:20]))
def test_python_api_stores_name_tricks_under_their_own_segment(trick: str) -> None:
    inner = MemoryStore()
    store, recorder = _populated(inner)
    recorder.reset()
    for call in _calls(store, trick):
        try:
            call()
        except InvalidInputError:
            raise
        except S3OpStoreError:
            pass  # not found, already exists: answers about a valid name
    written = [key for primitive, key in recorder.calls if primitive in WRITE_PRIMITIVES]
    assert written and all(key.startswith(_own_keys(trick)) for key in written), written
    assert store.get_versions(trick)[0].version == V1
    assert trick in store.list_ops() and store.list_aliases(trick) == ["prod"]
    assert check_invariants(inner).clean
    TALLY["name tricks stored encoded"] += 1


@pytest.mark.parametrize("attack", VERSION_ATTACKS, ids=lambda a: repr(a[:20]))
def test_python_api_refuses_bad_versions_before_any_request(attack: str) -> None:
    store, recorder = _populated(MemoryStore())
    for index, call in enumerate(_version_calls(store, attack)):
        _refused_without_io(call, recorder, f"version call {index} with {attack[:30]!r}")


@pytest.mark.parametrize("value", [3, b"v", ["v"], object()], ids=lambda x: type(x).__name__)
def test_set_alias_refuses_a_non_version_expected_before_any_request(value: Any) -> None:
    store, recorder = _populated(MemoryStore())
    _refused_without_io(lambda: store.set_alias("op", "prod", V1, expected=value), recorder,
                        f"expected={value!r}")


@pytest.mark.parametrize("text", LENIENT_VERSIONS, ids=repr)
def test_lenient_version_strings_are_refused_or_canonical(text: str) -> None:
    store, recorder = _populated(MemoryStore())
    recorder.reset()
    try:
        record = store.register_version("op", text)
    except InvalidInputError:
        return
    assert record.version == V1 and str(record.version) == GOOD_VERSION
    assert not [c for c in recorder.calls if c[0] in WRITE_PRIMITIVES]
    assert all("\x00" not in key for _, key in recorder.calls)


@pytest.mark.parametrize("value", [None, 3, 3.5, b"op", ["op"], {"op": 1}, object(), 10**400],
                         ids=lambda x: type(x).__name__)
def test_python_api_refuses_wrong_types(value: Any) -> None:
    store, recorder = _populated(MemoryStore())
    for call in [*_calls(store, value), *_version_calls(store, value)]:
        _refused_without_io(call, recorder, f"value {value!r}")
    keys: list[Any] = ["", "k" * 201, 5]
    for key in keys:
        def call(k: Any = key) -> object:
            return store.register_version("op", V1, idempotency_key=k)

        _refused_without_io(call, recorder, f"idempotency key {key!r}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(st.characters(codec="utf-8"), max_size=220)
       | st.text(alphabet="./%\\\x00-_aZ9\u2215\uff0e", max_size=12))
@example(name="latest")
@example(name="1.2")
def test_generated_names_are_refused_or_stay_in_their_op(name: str) -> None:
    inner = MemoryStore()
    store, recorder = _populated(inner)
    recorder.reset()
    try:
        check_name(name)
        valid = True
    except InvalidInputError:
        valid = False
    if not valid:
        _refused_without_io(lambda: store.register_version(name, V1), recorder, repr(name))
        _refused_without_io(lambda: store.set_alias("op", name, V1), recorder, repr(name))
        return
    TALLY["generated names accepted"] += 1
    store.register_version(name, V1)
    try:  # a valid name may still be no alias name: "latest", or one that reads as a number
        check_alias_name(name)
    except InvalidInputError:
        _refused_without_io(lambda: store.set_alias("op", name, V1), recorder, repr(name))
        return
    store.set_alias("op", name, V1)
    written = [key for primitive, key in recorder.calls if primitive in WRITE_PRIMITIVES]
    segment = encode_name(name)
    assert all(key.startswith((f"ops/{segment}/", f"aliases/op/{segment}/",
                               f"alias-heads/op/{segment}.json", f"events/op/{segment}/",
                               "events/op/op/", "_s3opstore/probe/"))
               for key in written), written
    assert store.list_aliases("op") == sorted({"prod", name})
    assert check_invariants(inner).clean


_HEX40 = st.text("0123456789abcdef", min_size=40, max_size=40)
_OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                         max_value=timedelta(hours=23, minutes=59)).map(timezone)
# Times a listing key must carry back: below year 1000, at the ends of the range, with
# offsets that push them past it in UTC, with and without microseconds.
_EDGE_TIMES = ["0001-01-01 00:00:00", "0999-12-31 23:59:59.999999", "0001-01-01 00:30:00+01:00",
               "9999-12-31 23:30:00-01:00", "9999-12-31 23:59:59.999999", "0010-10-10 10:10:10Z",
               "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59+23:59"]
# naive and aware (hypothesis types the two apart: no strategy of "offset or None")
_TIMES = (st.datetimes().map(str) | st.datetimes(timezones=_OFFSETS).map(str)
          | st.datetimes(max_value=datetime(1000, 1, 1)).map(str)
          | st.datetimes(max_value=datetime(1000, 1, 1), timezones=_OFFSETS).map(str)
          | st.sampled_from(_EDGE_TIMES))
_NEAR_VERSIONS = st.builds(
    lambda a, b, c, sep, moment: f"{a}.{b}.{c}{sep}{moment}", _HEX40, _HEX40, _HEX40,
    st.sampled_from(["_", "_", "_ ", "__", "/", "_../"]),
    _TIMES | st.text(st.characters(codec="utf-8"), max_size=40))
_HOSTILE_TIMES = st.builds(lambda a, moment: f"{a}.{'b' * 40}.{'c' * 40}_{moment}", _HEX40,
                           _TIMES)
_GENERATED_VERSIONS = (st.text(st.characters(codec="utf-8"), max_size=300)
                       | st.from_regex(r"[0-9a-f.]{0,130}_[0-9T:. -]{0,40}", fullmatch=True)
                       | _NEAR_VERSIONS | _HOSTILE_TIMES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_GENERATED_VERSIONS, min_size=3, max_size=5))
def test_generated_version_strings_are_refused_or_registered(texts: list[str]) -> None:
    """Several versions per example, good ones between them: listings are written and read.

    With one registration per example no version ever left the head, so a time
    that its listing key could not carry back was never written to a listing.
    Here every generated version is followed by a good one (moving it into the
    listing), and linked, and all three listings must answer with exactly the
    accepted versions, byte for byte, and skip nothing.
    """
    inner = MemoryStore()
    store, recorder = _populated(inner)
    registered = {V1.vid: str(V1)}
    for index, text in enumerate(texts):
        recorder.reset()
        try:
            record = store.register_valid_link("down", "op", text)
        except InvalidInputError:
            assert not [c for c in recorder.calls if c[0] in WRITE_PRIMITIVES], text
            TALLY["generated versions refused"] += 1
        else:
            TALLY["generated versions accepted"] += 1
            assert str(record.version).startswith(record.version.vid)
            registered.setdefault(record.version.vid, str(record.version))
            assert registered[record.version.vid] == str(record.version)
        good = v(f"good {index}", at=index + 2)
        store.register_valid_link("down", "op", good)
        registered[good.vid] = str(good)

    versions = store.list_versions("op")
    links = store.list_validated_links("down", "op")
    assert versions.skipped == () and links.skipped == ()
    assert [str(r.version) for r in versions.items] == list(registered.values())
    assert [r.number[0] for r in versions.items] == list(range(1, len(registered) + 1))
    linked = set(registered.values()) - {str(V1)}  # V1 was registered, never linked
    assert {str(version) for version in links.items} == linked
    for route, body, field in (
            ("get_all_versions_of_op", {"desired_op_name": "op"}, "all_versions"),
            ("get_validated_links", {"downstream_op_name": "down", "upstream_op_name": "op"},
             "upstream_versions")):
        response = handle(ApiRequest("POST", f"/v1/{route}", {}, orjson.dumps(body)), store)
        assert response.status == 200 and SKIPPED_HEADER not in response.headers
        listed = orjson.loads(response.body)[field]
        assert {str(Version.parse(text)) for text in listed} == set(listed)
        expected = linked if route == "get_validated_links" else set(registered.values())
        assert set(listed) == expected
    assert check_invariants(inner).clean
    TALLY["generated version listings checked"] += 1


# -- the HTTP API ---------------------------------------------------------------------
def _valid_bodies() -> dict[str, dict[str, Any]]:
    data = base64.b64encode(b"model").decode()
    return {
        "/v1/register_valid_link": {"downstream_op_name": "down", "upstream_op_name": "op",
                                    "upstream_op_version": GOOD_VERSION},
        "/v1/save_op_bytes": {"op_name": "op", "version": GOOD_VERSION, "bytes": data},
        "/v1/register_new_pipeline": {"pipeline_name": "p2", "last_op_name": "op"},
        "/v1/set_alias": {"op_name": "op", "alias": "dev", "version": GOOD_VERSION},
        "/v1/get_all_versions_of_op": {"desired_op_name": "op"},
        "/v1/get_validated_links": {"downstream_op_name": "down", "upstream_op_name": "op"},
        "/v1/get_op_bytes_for_version": {"desired_op_name": "op", "version": GOOD_VERSION},
        "/v1/pipeline_exists": {"pipeline_name": "pipe"},
        "/v1/get_version": {"op_name": "op", "version": GOOD_VERSION},
        "/v1/get_alias": {"op_name": "op", "alias": "prod"},
        "/v1/commit_upload": {"op_name": "op", "version": GOOD_VERSION,
                              "sha256": "0" * 64, "size": 5},
    }


def _json(value: Any) -> bytes:
    """JSON with \\u escapes, so lone surrogates and NULs travel as attackers send them."""
    return json.dumps(value).encode()


NUMBER_ATTACKS: list[Any] = [-1, 10**30, 1.5, "5", True, None, [], {}]
_TEXT_FIELDS = {"bytes", "sha256"}  # opaque content, not names: attacked as types only


def _send(store: OpStore, recorder: FaultInjector, path: str, body: bytes,
          headers: dict[str, str] | None = None) -> int:
    recorder.reset()
    response = handle(ApiRequest("POST", path, headers or {}, body), store)
    writes = [c for c in recorder.calls if c[0] in WRITE_PRIMITIVES]
    assert 400 <= response.status < 500, (path, body[:200], response.status, response.body[:300])
    assert not writes, (path, body[:200], writes)
    error = orjson.loads(response.body)["error"]
    assert error["type"] and error["message"]
    TALLY["http requests refused"] += 1
    return response.status


def test_http_bodies_with_attacks_in_every_field() -> None:
    store, recorder = _populated(MemoryStore())
    for path, body in _valid_bodies().items():
        for field, good in body.items():
            attacks: list[Any] = NUMBER_ATTACKS if isinstance(good, int) else (
                [None, 5, [], {"$ne": ""}] if field in _TEXT_FIELDS
                else [*(VERSION_ATTACKS if "version" in field else REFUSED_NAMES),
                      None, 5, 1e300, [], {"$ne": ""}, ["op"]])
            for attack in attacks:
                if attack is None and field == "downstream_op_name":
                    continue  # null downstream is valid: end of pipeline
                _send(store, recorder, path, _json({**body, field: attack}))
        _send(store, recorder, path, _json({**body, "extra": "field"}))


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


WHOLE_BODY_ATTACKS = [
    b"not json", b"{", b"[]", b"null", b"42", b'"op"', b"\x00", b"\xff\xfe\xfd",
    b'{"op_name": "op"\x00}', b'{"op_name": "\\u0000"}', _nested(100_000),
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"1" * 100_000, b"1e999999",
    b'{"op_name": 1e999999}', b'{"op_name": "op", "op_name": "../x"}',
    '{"op_name": "\u2215"}'.encode(), b"\xef\xbb\xbf{}",
]


def test_http_whole_body_attacks() -> None:
    store, recorder = _populated(MemoryStore())
    for path in _valid_bodies():
        for body in WHOLE_BODY_ATTACKS:
            _send(store, recorder, path, body)


@pytest.mark.parametrize("path", [
    "/v1/../v1/register_valid_link", "/v1/%2e%2e/register_valid_link", "/v1/..%2fregister",
    "/v1/register_valid_link/", "/v1/register_valid_link/../save_op_bytes", "//v1/set_alias",
    "/v1/set_alias%00", "/v1/set_alias\x00", "/V1/SET_ALIAS", "/v1/set\u2215alias",
    "/v1/" + "x" * 100_000, "", "/", "../../etc/passwd", "/v1/set_alias?x=../..",
    "/v1/set_alias#frag", "/v1/%73et_alias",
])
def test_http_hostile_paths(path: str) -> None:
    store, recorder = _populated(MemoryStore())
    body = orjson.dumps(_valid_bodies()["/v1/set_alias"])
    status = _send(store, recorder, path, body)
    assert status in (404, 405)


@pytest.mark.parametrize("key", [
    "", " ", "a b", "k\x00", "\u00e9", "x" * 201, "k\nX-Injected: 1",
    "k\n",
])
def test_http_hostile_idempotency_keys(key: str) -> None:
    store, recorder = _populated(MemoryStore())
    body = orjson.dumps(_valid_bodies()["/v1/set_alias"])
    _send(store, recorder, "/v1/set_alias", body, {"Idempotency-Key": key})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(sorted(_valid_bodies())), data=st.data())
def test_generated_http_bodies_never_500_and_write_only_when_accepted(path: str,
                                                                      data: Any) -> None:
    store, recorder = _populated(MemoryStore())
    template = _valid_bodies()[path]
    body = data.draw(st.one_of(
        json_values,
        st.fixed_dictionaries({k: st.one_of(st.just(val), json_values)
                               for k, val in template.items()})))
    recorder.reset()
    response = handle(ApiRequest("POST", path, {}, json.dumps(body).encode()), store)
    assert response.status < 500 or orjson.loads(response.body)["error"]["type"] in (
        "storage", "storage_access"), (body, response.status, response.body[:300])
    writes = [c for c in recorder.calls if c[0] in WRITE_PRIMITIVES]
    if response.status >= 400:
        assert not writes, (body, writes)
    TALLY["generated http bodies"] += 1


# -- nothing outside the prefix, on the real backends ---------------------------------
def _is_name_field(field: str) -> bool:
    return field not in _TEXT_FIELDS and "version" not in field and field != "size"


def _attack_everything(store: OpStore) -> int:
    refused = 0
    for attack in REFUSED_NAMES:
        for call in _calls(store, attack):
            with pytest.raises(InvalidInputError):
                call()
            refused += 1
    for attack in VERSION_ATTACKS:
        for call in _version_calls(store, attack):
            with pytest.raises(InvalidInputError):
                call()
            refused += 1
    for path, body in _valid_bodies().items():
        for field in set(body) - _TEXT_FIELDS:
            for attack in REFUSED_NAMES if _is_name_field(field) else ATTACKS[:20]:
                response = handle(ApiRequest("POST", path, {}, _json(
                    {**body, field: attack})), store)
                assert 400 <= response.status < 500
                refused += 1
    return refused


def _store_tricks(store: OpStore) -> int:
    """Every name trick as an op, an alias, a link's ends and a pipeline: all accepted."""
    for trick in NAME_TRICKS[:30]:
        store.register_valid_link(trick, trick, V1)
        store.save_op_bytes(trick, V1, b"x")
        store.set_alias(trick, trick, V1)
        store.register_pipeline(trick, trick)
        body = {"op_name": trick, "version": GOOD_VERSION,
                "bytes": base64.b64encode(b"y").decode()}
        response = handle(ApiRequest("POST", "/v1/register_valid_link", {}, _json(
            {"downstream_op_name": "down", "upstream_op_name": trick,
             "upstream_op_version": GOOD_VERSION})), store)
        assert response.status == 200, response.body
        assert handle(ApiRequest("POST", "/v1/save_op_bytes", {}, _json(body)),
                      store).status == 200
    assert set(NAME_TRICKS[:30]) <= set(store.list_ops())
    return 30


def test_nothing_leaves_the_bucket_prefix(moto_client: Any) -> None:
    moto_client.put_object(Bucket="mock-bucket", Key="victim/secret.json", Body=b"keep")
    moto_client.put_object(Bucket="mock-bucket", Key="reg/other/ops/op/head.json", Body=b"x")
    inner = S3Store("mock-bucket", "reg/mine", client=moto_client)
    store, _ = _populated(inner)
    before = {o["Key"]: o["ETag"] for o in moto_client.list_objects_v2(
        Bucket="mock-bucket")["Contents"]}
    TALLY["s3 prefix attacks refused"] += _attack_everything(store)
    after = {o["Key"]: o["ETag"] for o in moto_client.list_objects_v2(
        Bucket="mock-bucket")["Contents"]}
    assert after == before
    TALLY["s3 name tricks stored inside"] += _store_tricks(store)
    pages = moto_client.get_paginator("list_objects_v2").paginate(Bucket="mock-bucket")
    after = {o["Key"]: o["ETag"] for page in pages for o in page["Contents"]}
    outside = {"victim/secret.json", "reg/other/ops/op/head.json"}
    assert {k: after[k] for k in outside} == {k: before[k] for k in outside}
    assert len(after) > len(before)
    assert all(k.startswith("reg/mine/") for k in set(after) - outside)
    assert not any(s in ("", ".", "..") for k in after for s in k.split("/"))


def test_nothing_leaves_the_local_directory(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(b"keep")
    inner = LocalStore(tmp_path / "store")
    store, _ = _populated(inner)

    def files() -> dict[str, int]:
        out = {}
        for root, _dirs, names in os.walk(tmp_path):
            for name in names:
                path = Path(root, name)
                out[str(path.relative_to(tmp_path))] = path.stat().st_mtime_ns
        return out

    before = files()
    TALLY["local dir attacks refused"] += _attack_everything(store)
    assert files() == before
    assert all(k.startswith("store/") or k == "secret.txt" for k in before)
    TALLY["local dir name tricks stored inside"] += _store_tricks(store)
    after = files()
    assert after["secret.txt"] == before["secret.txt"] and len(after) > len(before)
    assert all(k.startswith("store/") or k == "secret.txt" for k in after)


# -- a manifest edited by hand into garbage ------------------------------------------------
GARBAGE = [b"", b"{not json", b"null", b"[]", b'{"kind": "op-head"}', b"\xff\xfe",
           orjson.dumps({"kind": "op-head", "schema_version": 0}), b"A" * 100_000]
# (A schema_version above ours is a newer writer's, not garbage: see test_store_format.py.)


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: repr(g[:12]))
def test_corrupt_manifest_is_named_and_contained(garbage: bytes) -> None:
    inner = MemoryStore()
    store = OpStore(inner)
    for op in ("broken", "fine"):
        store.register_version(op, V1)
        store.register_version(op, v("b", at=2))
        store.save_op_bytes(op, V1, b"bytes of " + op.encode())
        store.set_alias(op, "prod", V1)
    store.register_pipeline("pipe", "fine")
    bad_keys = ["ops/broken/head.json"]
    bad_keys.append(next(i.key for i in inner.list("ops/broken/bytes/")))
    bad_keys.append(next(i.key for i in inner.list("aliases/broken/prod/")))
    bad_keys.append(alias_head_key("broken", "prod"))  # what alias reads read (D17)
    for key in bad_keys:
        inner.put(key, garbage)

    for call in (lambda: store.latest_version("broken"), lambda: store.get_versions("broken"),
                 lambda: store.register_version("broken", v("c", at=3)),
                 lambda: store.load_op_bytes("broken", V1),
                 lambda: store.get_alias("broken", "prod")):
        with pytest.raises(CorruptManifestError) as info:
            call()
        assert info.value.key in bad_keys and info.value.key in str(info.value)
        TALLY["corrupt manifest reads named their key"] += 1
    response = handle(ApiRequest("POST", "/v1/get_all_versions_of_op", {},
                                 b'{"desired_op_name": "broken"}'), store)
    assert response.status == 500
    error = orjson.loads(response.body)["error"]
    assert error["type"] == "corrupt_manifest" and "ops/broken/head.json" in error["message"]

    # The rest of the registry still works, reads and writes.
    assert [r.number for r in store.get_versions("fine")] == [(1, 0, 0), (2, 0, 0)]
    assert store.load_op_bytes("fine", V1) == b"bytes of fine"
    assert store.get_alias("fine", "prod").version == V1
    assert store.register_version("fine", v("c", at=3)).number == (3, 0, 0)
    assert store.list_ops() == ["broken", "fine"]
    assert store.get_pipeline("pipe").last_op_name == "fine"

    report = fsck(store, deep=True)
    assert {p.key for p in report.problems} >= set(bad_keys), report.problems
    assert all(p.key in bad_keys or p.key.startswith(("ops/broken/", "aliases/broken/",
                                                      "events/op/broken/",
                                                      "events/versions/broken/"))
               for p in report.problems), report.problems
