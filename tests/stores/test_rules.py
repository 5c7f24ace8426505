"""Single-field parsers: every accepted form and every refusal, with the reason a user sees."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from stores.rules import (
    RejectedRow,
    parse_day_of_week,
    parse_local_time,
    parse_status,
    parse_store_id,
    parse_timestamp_utc,
    parse_timezone,
)

pytestmark = pytest.mark.django_db

INSTANT = datetime(2023, 1, 22, 12, 9, 39, 388884, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2023-01-22 12:09:39.388884 UTC",
        "2023-01-22T12:09:39.388884Z",
        "2023-01-22T12:09:39.388884+00:00",
        "2023-01-22 12:09:39.388884+00:00",
        "  2023-01-22 12:09:39.388884 UTC  ",
    ],
)
def test_every_contract_timestamp_form_reads_as_the_same_utc_instant(raw: str) -> None:
    assert parse_timestamp_utc(raw) == INSTANT


@pytest.mark.parametrize("raw", ["2023-01-22 12:09:39 UTC", "2023-01-22T12:09:39Z", "2023-01-22T12:09:39+00:00"])
def test_a_timestamp_without_fraction_reads_as_a_whole_second(raw: str) -> None:
    assert parse_timestamp_utc(raw) == datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC)


def test_a_timestamp_comes_back_aware_in_utc() -> None:
    assert parse_timestamp_utc("2023-01-22 12:09:39 UTC").tzinfo is UTC


def test_a_timestamp_without_zone_marker_is_taken_as_utc() -> None:
    assert parse_timestamp_utc("2023-01-22 12:09:39.388884") == INSTANT


def test_a_timestamp_with_another_offset_is_converted_to_utc() -> None:
    assert parse_timestamp_utc("2023-01-22T14:09:39.388884+02:00") == INSTANT
    assert parse_timestamp_utc("2023-01-22T07:09:39.388884-05:00") == INSTANT


@pytest.mark.parametrize("raw", ["yesterday", "", "2023-13-01 00:00:00 UTC", "2023-01-22 25:00:00 UTC", "1674389379"])
def test_an_unparsable_timestamp_is_rejected_with_its_text(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_timestamp_utc(raw)
    assert caught.value.reason == f"unparsable timestamp {raw!r}"


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_whose_utc_instant_is_out_of_range_is_rejected_not_a_crash(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_timestamp_utc(raw)
    assert "out of range" in caught.value.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09:05:07", time(9, 5, 7)),
        ("9:05:07", time(9, 5, 7)),
        ("09:05", time(9, 5)),
        ("9:05", time(9, 5)),
        ("00:00:00", time(0, 0)),
        (" 10:30:00 ", time(10, 30)),
        ("23:59:59", time(23, 59, 59)),
    ],
)
def test_local_times_are_read_in_every_accepted_form(raw: str, expected: time) -> None:
    assert parse_local_time(raw, column="start_time_local") == expected


def test_23_59_59_is_taken_literally_one_second_before_midnight() -> None:
    assert parse_local_time("23:59:59", column="end_time_local") == time(23, 59, 59)


@pytest.mark.parametrize("raw", ["24:00:00", "24:00", "23:60:00", "23:59:60"])
def test_a_local_time_that_is_not_a_time_of_day_is_rejected(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_local_time(raw, column="end_time_local")
    assert caught.value.reason == f"end_time_local {raw!r} is not a time of day"


@pytest.mark.parametrize("raw", ["9", "9am", "09:5", "09:05:7", "109:00", "ab:cd", "", "-1:00", "09:05:07.5", "²:00"])
def test_a_local_time_in_no_accepted_form_is_rejected(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_local_time(raw, column="start_time_local")
    assert caught.value.reason == f"unparsable start_time_local {raw!r} (expected HH:MM:SS)"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("active", True), ("inactive", False), ("ACTIVE", True), ("Inactive", False), ("  active ", True)],
)
def test_status_is_read_in_any_letter_case_with_blanks_ignored(raw: str, expected: bool) -> None:
    assert parse_status(raw) is expected


@pytest.mark.parametrize("raw", ["up", "", "activ", "1"])
def test_an_unknown_status_is_rejected(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_status(raw)
    assert caught.value.reason == f"unknown status {raw!r} (expected active or inactive)"


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("6", 6), (" 3 ", 3)])
def test_days_0_to_6_are_read(raw: str, expected: int) -> None:
    assert parse_day_of_week(raw) == expected


@pytest.mark.parametrize("raw", ["7", "-1", "Monday", "", "1.0", "²"])
def test_a_day_outside_0_to_6_is_rejected(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_day_of_week(raw)
    assert caught.value.reason == f"day {raw!r} is not a day of week 0-6 (0 = Monday)"


@pytest.mark.parametrize("raw", ["America/Chicago", " Asia/Beirut ", "UTC"])
def test_a_known_iana_zone_is_read(raw: str) -> None:
    assert parse_timezone(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["Mars/Olympus", "", "America/Chicag0", "../etc/passwd"])
def test_an_unknown_zone_is_rejected(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_timezone(raw)
    assert caught.value.reason == f"unknown timezone {raw!r}"


def test_a_store_id_is_kept_as_text_without_surrounding_blanks() -> None:
    assert parse_store_id("  0012345 ") == "0012345"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "store_id is empty"),
        ("   ", "store_id is empty"),
        ("12\x0734", "store_id contains control characters"),
        ("9" * 65, "store_id is longer than 64 characters"),
    ],
)
def test_an_empty_or_unusable_store_id_is_rejected(raw: str, reason: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_store_id(raw)
    assert caught.value.reason == reason
