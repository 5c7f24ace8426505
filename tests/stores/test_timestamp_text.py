"""The bulk loader's timestamp text says exactly what the general parser says, by a faster road."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stores.rules import RejectedRow, parse_timestamp_utc, utc_timestamp_text


def slow_road(raw: str) -> str:
    return str(parse_timestamp_utc(raw).replace(tzinfo=None))


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("2023-01-22 12:09:39.388884 UTC", "2023-01-22 12:09:39.388884"),
        ("2023-01-22 12:09:39 UTC", "2023-01-22 12:09:39"),
        ("2023-01-22 12:09:39.46544 UTC", "2023-01-22 12:09:39.465440"),
        ("2023-01-22 12:09:39.000000 UTC", "2023-01-22 12:09:39"),
        ("2023-01-22T12:09:39.5Z", "2023-01-22 12:09:39.500000"),
        ("2023-01-22T12:09:39+05:30", "2023-01-22 06:39:39"),
    ],
)
def test_every_form_of_an_instant_becomes_one_text(raw: str, text: str) -> None:
    assert utc_timestamp_text(raw) == text == slow_road(raw)


@given(
    moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    digits=st.integers(min_value=0, max_value=6),
    suffix=st.sampled_from([" UTC", "Z", "+00:00", "", " UTC "]),
    separator=st.sampled_from([" ", "T"]),
)
def test_the_fast_road_agrees_with_the_general_parser(
    moment: datetime, digits: int, suffix: str, separator: str
) -> None:
    fraction = f"{moment.microsecond:06d}"[:digits]
    raw = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + (f".{fraction}" if digits else "") + suffix

    assert utc_timestamp_text(raw) == slow_road(raw)


@given(st.text(max_size=40))
def test_on_any_text_the_fast_road_rejects_or_agrees(raw: str) -> None:
    try:
        expected = slow_road(raw)
    except RejectedRow:
        with pytest.raises(RejectedRow):
            utc_timestamp_text(raw)
    else:
        assert utc_timestamp_text(raw) == expected


def test_the_text_is_what_django_stores_for_the_same_instant() -> None:
    moment = datetime(2023, 1, 22, 12, 9, 39, tzinfo=UTC)
    assert utc_timestamp_text("2023-01-22 12:09:39.000000 UTC") == str(moment.replace(tzinfo=None))


@pytest.mark.parametrize("raw", ["0001-01-01 00:00:00 UTC", "1899-12-31 23:59:59.999999 UTC", "9999-01-01 00:00:00"])
def test_instants_outside_the_supported_years_are_rejected_on_the_fast_road_too(raw: str) -> None:
    with pytest.raises(RejectedRow, match="out of range"):
        utc_timestamp_text(raw)


# Every date and time form fromisoformat reads, from the hour alone to microseconds.
DATES = ["%Y-%m-%d", "%Y%m%d", "%G-W%V-%u", "%GW%V%u"]
SHORT_TIMES = ["%H", "%H:%M", "%H%M", "%H:%M:%S", "%H%M%S"]
OFFSETS = ["", "Z", "+00:00", "+05:00", "-03:30", "+0530", "-08", "+14:00:00", " UTC"]


@given(
    moment=st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(9998, 1, 1)),
    date_form=st.sampled_from(DATES),
    time_form=st.sampled_from(SHORT_TIMES),
    digits=st.integers(min_value=0, max_value=6),
    offset=st.sampled_from(OFFSETS),
    separator=st.sampled_from([" ", "T"]),
)
def test_the_fast_road_agrees_with_the_general_parser_on_every_short_form_with_or_without_an_offset(
    moment: datetime, date_form: str, time_form: str, digits: int, offset: str, separator: str
) -> None:
    fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits and time_form.endswith("S") else ""
    raw = moment.strftime(f"{date_form}{separator}{time_form}") + fraction + offset

    try:
        expected = slow_road(raw)
    except RejectedRow:
        with pytest.raises(RejectedRow):
            utc_timestamp_text(raw)
    else:
        assert utc_timestamp_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("2023-01-22 12+05:00", "2023-01-22 07:00:00"),
        ("2023-01-22 12:30-02:00", "2023-01-22 14:30:00"),
        ("2023-01-22 1230+0100", "2023-01-22 11:30:00"),
        ("2023-W03-1 12:09:39", "2023-01-16 12:09:39"),  # an ISO week date of the canonical length
    ],
)
def test_a_short_form_with_an_offset_or_a_week_date_is_converted_to_utc(raw: str, text: str) -> None:
    assert utc_timestamp_text(raw) == text
