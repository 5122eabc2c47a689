from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3opstore import Version, VersionRecord
from s3opstore.errors import InvalidNameError
from s3opstore.models import key_codecs, keys
from s3opstore.models.names import (
    MAX_SEGMENT_LENGTH,
    check_name,
    decode_name,
    encode_name,
)
from s3opstore.stores.base import check_key

# Names Chariots can produce: a nested pipeline's name, class names, any text.
GOOD = ["scaler", "RandomForest_v2", "a", "op.name-1", "_private", "9lives", "x" * 200,
        "inner pipe", ".hidden", "-dash", "a/b", ".", "..", "../etc", "é", "e\u0301", "a\\b",
        "a%2fb", "a\u2215b", "ａ", "日本語のモデル", "\U0001f600", "~user", "a=b+c", " ",
        "\u202eevil", "Model", "model", "MODEL"]
BAD = ["", "tab\t", "nul\x00", "a\nb", "del\x7f", "c1\x85", "x" * 201, "lone\udcff",
       "\u00e9" * 84, "A" * 126, None, 3]


@pytest.mark.parametrize("name", GOOD)
def test_good_names_encode_to_one_safe_segment_and_back(name: str) -> None:
    assert check_name(name) == name
    segment = encode_name(name)
    assert check_key(f"ops/{segment}/head.json")
    assert "/" not in segment and segment not in (".", "..")
    assert not segment.startswith(".") and not segment.endswith(".")
    assert segment == segment.lower()  # case-insensitive file systems cannot merge two names
    assert len(segment) <= MAX_SEGMENT_LENGTH
    assert decode_name(segment) == name


@pytest.mark.parametrize("name", BAD)
def test_bad_names_name_the_value(name: object) -> None:
    with pytest.raises(InvalidNameError) as info:
        check_name(name, "pipeline name")
    assert "pipeline name" in str(info.value)
    assert repr(name)[:20].strip("'") in str(info.value) or name in ("", None, 3)
    with pytest.raises(InvalidNameError):
        keys.op_head_key(name)  # type: ignore[arg-type]


def test_plain_names_keep_their_readable_segment() -> None:
    for name in ["scaler", "op.name-1", "_private", "9lives", "a.b.c", "snake_case_op"]:
        assert encode_name(name) == name
    assert encode_name("inner pipe") == "inner=20pipe"
    assert encode_name("RandomForest") == "~random~forest"
    assert encode_name("../x") == "=2e.=2fx"


def test_unicode_forms_and_case_are_distinct_names_with_distinct_segments() -> None:
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    segments = {encode_name(n) for n in (nfc, nfd, "Model", "model", "MODEL", "mOdel")}
    assert len(segments) == 6
    assert len({s.casefold() for s in segments}) == 6
    assert all(s.isascii() for s in segments)  # no file system normalizes ASCII


@pytest.mark.parametrize("segment", ["Model", ".x", "x.", "=41", "=2E", "~~", "=c3", "=ff",
                                     "a=2", "", "=00", "=2f=2e=2e" + "x" * 300, "a/b"])
def test_only_canonical_segments_decode(segment: str) -> None:
    with pytest.raises(ValueError, match="encod"):
        decode_name(segment)


@given(st.text(max_size=250))
def test_any_text_is_refused_or_one_reversible_segment(name: str) -> None:
    try:
        check_name(name)
    except InvalidNameError:
        return
    segment = encode_name(name)
    check_key(f"ops/{segment}/head.json")
    assert decode_name(segment) == name


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_distinct_names_never_share_a_segment(a: str, b: str) -> None:
    try:
        sa, sb = encode_name(a), encode_name(b)
    except InvalidNameError:
        return
    assert (sa.casefold() == sb.casefold()) == (a == b)


def test_longest_keys_fit_under_the_s3_limit_with_a_documented_prefix() -> None:
    longest = "=c3=a9" * (MAX_SEGMENT_LENGTH // 6) + "x" * (MAX_SEGMENT_LENGTH % 6)
    top = decode_name(longest)
    assert len(encode_name(top)) == MAX_SEGMENT_LENGTH
    version = Version.from_parts(b"m", creation_time=datetime(2019, 10, 8, 1, 2, 3, 456789,
                                                              tzinfo=UTC))
    record = _record(op_name=top, version=version, number=(10**6, 10**6, 10**6),
                     registered_pid=2**22, registered_host="h" * 63)
    all_keys = [keys.link_key(top, top, version), keys.version_entry_key(record),
                keys.alias_key(top, top, 10**19), keys.bytes_key(top, version, 10**19),
                keys.pipeline_key(top), keys.blob_key(top, "f" * 64)]
    for key in all_keys:
        check_key(key)
    with pytest.raises(InvalidNameError, match="key encoding is 256"):
        check_name(top + "é")
    # docs/design.md: keys stay within 664 bytes below the prefix, leaving 360 for it.
    assert max(len(k.encode()) for k in all_keys) <= 664
    assert len(keys.pipeline_key(top).rsplit("/", 1)[1]) <= 255  # a local file name


def _record(**changes: object) -> VersionRecord:
    fields: dict[str, object] = {
        "op_name": "op", "version": Version.from_parts(major=b"m", creation_time=datetime(
            2019, 10, 8, 12, 34, 56)),
        "number": (12, 0, 3), "seq": 41,
        "registered_at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "registered_host": "worker-1.example", "registered_pid": 4242}
    fields.update(changes)
    return VersionRecord.model_validate(fields)


@pytest.mark.parametrize("record", [
    _record(),
    _record(version=Version.from_parts(creation_time=datetime(2020, 2, 29, 0, 0, 0, 1))),
    _record(version=Version.from_parts(creation_time=datetime(2020, 1, 1, tzinfo=UTC))),
])
def test_version_entry_key_encodes_the_whole_record(record: VersionRecord) -> None:
    key = keys.version_entry_key(record)
    check_key(key)
    again = keys.parse_version_entry("op", key)
    assert again == record
    assert str(again.version) == str(record.version)


def test_link_key_round_trips_the_version_string() -> None:
    version = Version.from_parts(major=b"a", creation_time=datetime(2019, 10, 8, 12, 34, 56))
    key = keys.link_key("down", "up", version)
    check_key(key)
    assert str(keys.parse_link_key(key)) == str(version)


def test_inverted_sequences_sort_newest_first() -> None:
    names = [keys.bytes_key("op", Version(), seq) for seq in (0, 1, 2, 10, 11)]
    assert sorted(names) == list(reversed(names))
    assert [keys.parse_inverted(n.rsplit("/", 1)[1]) for n in names] == [0, 1, 2, 10, 11]


def test_hosts_are_cleaned_for_keys() -> None:
    assert key_codecs.clean_host("my_host/../x") == "my-host-..-x"
    assert key_codecs.clean_host("") == "unknown"
    assert len(key_codecs.clean_host("h" * 300)) == 63
