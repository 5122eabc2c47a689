"""The creation-time rule: a version is accepted exactly when its keys round-trip it.

A version's creation time is written into its listing entry key and its link
keys. A time those keys could not carry back would poison every later LIST of
the op, so the rule is checked here against the key functions themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3opstore import Version, VersionRecord
from s3opstore.errors import InvalidVersionError
from s3opstore.models import keys

A, B, C = "a" * 40, "b" * 40, "c" * 40


def _entry_round_trip(version: Version) -> Version:
    record = VersionRecord(op_name="op", version=version, number=(1, 0, 0), seq=3,
                           registered_at=datetime(2026, 1, 1, tzinfo=UTC),
                           registered_host="h", registered_pid=1)
    return keys.parse_version_entry("op", keys.version_entry_key(record)).version


def _link_round_trip(version: Version) -> Version:
    return keys.parse_link_key(keys.link_key("down", "op", version))


@pytest.mark.parametrize("moment", [
    datetime(1, 1, 1), datetime(999, 12, 31, 23, 59, 59, 999999), datetime(9, 2, 3, 4, 5, 6),
    datetime(1000, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1, 1, 1, 2, tzinfo=timezone(timedelta(hours=1))),
    datetime(9999, 12, 31, 21, tzinfo=timezone(timedelta(hours=-2))),
], ids=str)
def test_times_at_the_edges_round_trip_through_both_keys(moment: datetime) -> None:
    version = Version(A, B, C, moment)
    for again in (_entry_round_trip(version), _link_round_trip(version)):
        assert str(again) == str(version)
        assert again.creation_time == version.creation_time
    assert str(Version.parse(str(version))) == str(version)


@pytest.mark.parametrize("text", [
    "0001-01-01 00:30:00+01:00", "0001-01-01 00:00:00+00:01", "9999-12-31 23:30:00-01:00",
    "9999-12-31 23:59:59.999999-00:00:01",
])
def test_aware_times_outside_the_range_in_utc_are_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        Version.parse(f"{A}.{B}.{C}_{text}")
    assert text in info.value.message and "UTC" in info.value.message
    with pytest.raises(InvalidVersionError):
        Version(A, B, C, datetime.fromisoformat(text))


def test_encoded_years_are_four_digits_so_keys_have_one_shape() -> None:
    assert keys.encode_ctime(datetime(7, 1, 2, 3, 4, 5)) == "00070102T030405"
    assert keys.encode_ctime(datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == (
        "20200102T030405.000006Z")


@pytest.mark.parametrize("text", ["9990101T000000", "99990101T000000.5", "00000101T000000",
                                  "20201301T000000", "20200101T250000Z", "20200101T000000Zx"])
def test_malformed_encoded_times_are_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        keys.decode_ctime(text)


_ZONES = st.none() | st.just(UTC) | st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59),
).map(timezone)


@given(moment=st.datetimes(timezones=_ZONES))
def test_every_time_is_refused_or_round_trips_through_its_keys(moment: datetime) -> None:
    try:
        version = Version(A, B, C, moment)
    except InvalidVersionError:
        shifted = moment.utcoffset() or timedelta(0)
        naive = moment.replace(tzinfo=None)
        # Refused only when the UTC equivalent falls outside datetime's years 1..9999.
        assert (naive - datetime.min < shifted) or (datetime.max - naive < -shifted)
        return
    assert str(_entry_round_trip(version)) == str(version)
    assert str(_link_round_trip(version)) == str(version)
    assert str(Version.parse(str(version))) == str(version)
