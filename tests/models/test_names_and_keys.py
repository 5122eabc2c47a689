from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3opstore import Version, VersionRecord
from s3opstore.errors import InvalidNameError
from s3opstore.models import keys
from s3opstore.models.names import check_name
from s3opstore.stores.base import check_key

GOOD = ["scaler", "RandomForest_v2", "a", "op.name-1", "_private", "9lives", "x" * 200]
BAD = ["", ".hidden", "-dash", "a/b", "..", "../etc", "a b", "tab\t", "nul\x00", "x" * 201,
       "é", "a\\b", "a%2fb", "a\u2215b", "ａ", "a\nb", None, 3]


@pytest.mark.parametrize("name", GOOD)
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", BAD)
def test_bad_names_name_the_value(name: object) -> None:
    with pytest.raises(InvalidNameError) as info:
        check_name(name, "pipeline name")
    assert "pipeline name" in str(info.value)
    assert repr(name)[:20].strip("'") in str(info.value) or name in ("", None, 3)


@given(st.text(max_size=250))
def test_any_accepted_name_is_one_safe_key_segment(name: str) -> None:
    try:
        check_name(name)
    except InvalidNameError:
        return
    assert "/" not in name and name not in (".", "..")
    check_key(f"ops/{name}/head.json")


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
    assert keys.clean_host("my_host/../x") == "my-host-..-x"
    assert keys.clean_host("") == "unknown"
    assert len(keys.clean_host("h" * 300)) == 63
