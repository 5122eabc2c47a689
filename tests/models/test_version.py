from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3opstore import Version
from s3opstore.errors import InvalidVersionError
from s3opstore.models.version import EMPTY_DIGEST

A, B, C = "a" * 40, "b" * 40, "c" * 40


def test_empty_digest_is_sha1_of_nothing() -> None:
    assert EMPTY_DIGEST == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert Version().hashes == (EMPTY_DIGEST,) * 3


@pytest.mark.parametrize("text", [
    f"{A}.{B}.{C}_2019-10-08 12:34:56.123456",
    f"{A}.{B}.{C}_2019-10-08 12:34:56",          # microseconds zero: no fraction
    f"{A}.{B}.{C}_2019-10-08 12:34:56.000001",
    f"{A}.{B}.{C}_2019-10-08 12:34:56+00:00",    # aware UTC
])
def test_canonical_strings_round_trip_byte_for_byte(text: str) -> None:
    assert str(Version.parse(text)) == text


def test_lenient_time_parsing() -> None:
    version = Version.parse(f"{A}.{B}.{C}_2019-10-08T12:34:56Z")
    assert version.creation_time == datetime(2019, 10, 8, 12, 34, 56, tzinfo=UTC)
    shifted = Version.parse(f"{A}.{B}.{C}_2019-10-08T14:34:56+02:00")
    assert shifted.creation_time == datetime(2019, 10, 8, 12, 34, 56, tzinfo=UTC)
    assert str(shifted).endswith("2019-10-08 12:34:56+00:00")


def test_equality_and_hash_ignore_time() -> None:
    early = Version(A, B, C, datetime(2019, 1, 1))
    late = Version(A, B, C, datetime(2020, 1, 1))
    assert early == late and hash(early) == hash(late)
    assert len({early, late}) == 1
    assert not early < late and not late > early  # equal versions are not ordered


def test_ordering_by_creation_time_when_different() -> None:
    early = Version(A, B, C, datetime(2019, 1, 1))
    other = Version(B, B, C, datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert other > early and early < other


def test_from_parts_hashes_content() -> None:
    version = Version.from_parts(major=b"x", minor="y", creation_time=datetime(2020, 1, 1))
    assert version.major == "11f6ad8ec52a2984abaafd7c3b516503785c2072"
    assert version.minor == "95cb0bfd2977c761298d9624e4b4d4c72a39974a"
    assert version.patch == EMPTY_DIGEST


def test_immutable_and_picklable() -> None:
    version = Version.from_parts(major=b"m")
    with pytest.raises(AttributeError):
        version.major = B
    clone = pickle.loads(pickle.dumps(version))
    assert clone == version and str(clone) == str(version)


@pytest.mark.parametrize("text", [
    "", "no-underscore", f"{A}.{B}_2019-10-08 12:00:00", f"{A}.{B}.{C}.{A}_2019-10-08",
    f"{A.upper()}.{B}.{C}_2019-10-08 12:00:00", f"{A[:-1]}.{B}.{C}_2019-10-08 12:00:00",
    f"{A}.{B}.{C}_yesterday", f"{A}.{B}.{C}_", "x" * 300, f"../{A}.{B}.{C}_2019-10-08",
])
def test_bad_strings_raise_invalid_version_naming_the_value(text: str) -> None:
    with pytest.raises(InvalidVersionError) as info:
        Version.parse(text)
    assert text[:20] in str(info.value)


@given(st.text(max_size=300))
def test_parse_never_raises_anything_else(text: str) -> None:
    try:
        version = Version.parse(text)
    except InvalidVersionError:
        return
    assert Version.parse(str(version)) == version


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9000, 1, 1)),
       st.booleans())
def test_any_time_round_trips(moment: datetime, aware: bool) -> None:
    if aware:
        moment = moment.replace(tzinfo=UTC)
    version = Version(A, B, C, moment)
    again = Version.parse(str(version))
    assert str(again) == str(version)
    assert again.creation_time == version.creation_time
