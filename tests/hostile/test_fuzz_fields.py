"""Fuzzing the single-field parsers: any text in, a typed value or a RejectedRow out, nothing else.

A parser that raises anything but :class:`RejectedRow` turns one bad cell
into a traceback for the whole file, so every parser is fed arbitrary text
and text shaped like its own column but mangled (unicode digits, huge
numbers, year 0 and 9999, odd offsets, 24:00 and 99:99, path-like zone
names). What comes back must also be a value its column can hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingestion.rows import hours_from_fields, poll_from_fields, timezone_from_fields
from stores.rules import (
    EARLIEST_INSTANT,
    END_OF_INSTANTS,
    STORE_ID_MAX_LENGTH,
    RejectedRow,
    known_timezones,
    parse_day_of_week,
    parse_local_time,
    parse_status,
    parse_store_id,
    parse_timestamp_utc,
    parse_timezone,
)

Value = TypeVar("Value")

FUZZ = settings(max_examples=300, deadline=None)

# Digits that are not ASCII: str.isdigit() or int() accept some of them, the file format does not.
UNICODE_DIGITS = ["٠", "٩", "۹", "०", "９", "０", "²", "①", "𝟗", "᠙"]
BLANKS = ["", " ", "\t", "\u00a0", "\u3000", "\u2028", "\ufeff", "\u200b"]

blank = st.sampled_from(BLANKS)
digit_run = st.text(alphabet=st.sampled_from([*"0123456789", *UNICODE_DIGITS]), min_size=0, max_size=6)
number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}"),
    digit_run,
    st.sampled_from(["-0", "+1", "1e3", "0x1", "1_0", "١", "7.0", "nan", "inf", "9" * 5000, "0" * 5000 + "3"]),
)


def _joined(parts: list[str], separators: list[str]) -> str:
    return "".join(part + separator for part, separator in zip(parts, separators, strict=False)) + parts[-1]


local_time_text = st.one_of(
    st.builds(
        lambda parts, padding: padding + ":".join(parts) + padding,
        st.lists(number, min_size=1, max_size=4),
        blank,
    ),
    st.sampled_from(
        ["24:00", "24:00:00", "23:59:59", "99:99", "99:99:99", "00:60", "23:59:60", "9:5", "09:00:00.5", "-1:00"]
    ),
)

offset = st.one_of(
    st.sampled_from(["", "Z", "z", " UTC", "UTC", " utc", "+00:00", "-00:00", "+0000", "+24:00", "-23:59"]),
    st.sampled_from(["+23:59:59", "+05:30", "-00:00:00.000001"]),
    st.builds(lambda sign, hours, minutes: f"{sign}{hours}:{minutes}", st.sampled_from("+-"), number, number),
)
timestamp_text = st.one_of(
    st.builds(
        lambda year, month, day, hour, minute, second, fraction, separator, zone: (
            f"{year}-{month}-{day}{separator}{hour}:{minute}:{second}{fraction}{zone}"
        ),
        st.sampled_from(["0000", "0001", "1970", "2023", "9999", "10000", "-001", "２０２３"]) | number,
        number,
        number,
        number,
        number,
        number,
        st.sampled_from(["", ".", ".388884", ".1", ".1234567890123", ",5"]),
        st.sampled_from(["T", " ", "t", "  ", "_"]),
        offset,
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+00:01",
            "0001-01-01 00:00:00 UTC",
            "9999-12-31T23:59:59.999999-00:01",
            "9999-12-31 23:59:59.999999 UTC",
            "2023-01-22 24:00:00 UTC",
            "2023-02-29 12:00:00 UTC",
            "2023-W03-7",
            "20230122T120939Z",
            " UTC",
            "UTC",
        ]
    ),
)


def outcome(parse: Callable[[str], Value], raw: str) -> Value | None:
    """The parsed value, or ``None`` after checking the refusal is a RejectedRow with a reason."""
    try:
        return parse(raw)
    except RejectedRow as error:
        assert error.reason
        return None


@FUZZ
@given(st.one_of(st.text(), st.text(max_size=200).map(lambda t: "1" + t)))
def test_a_store_id_is_printable_stripped_text_of_bounded_length_or_rejected(raw: str) -> None:
    value = outcome(parse_store_id, raw)

    if value is not None:
        assert value == raw.strip()
        assert 0 < len(value) <= STORE_ID_MAX_LENGTH
        assert value.isprintable()


@FUZZ
@given(st.one_of(st.text(), st.sampled_from(["active", "INACTIVE", " Active\t", "actif", "ACTİVE", "ınactive"])))
def test_a_status_is_a_bool_read_from_active_or_inactive_or_rejected(raw: str) -> None:
    value = outcome(parse_status, raw)

    if value is not None:
        assert raw.strip().lower() == ("active" if value else "inactive")


@FUZZ
@given(st.one_of(st.text(), timestamp_text))
# Found by this test: instants this close to datetime's limits were accepted, and a
# report whose `now` is one of them overflows computing the week before it.
@example("0001-01-01 00:00:00 UTC")
@example("9999-12-31 23:59:59.999999 UTC")
def test_a_timestamp_is_an_aware_utc_datetime_a_report_can_use_or_rejected(raw: str) -> None:
    value = outcome(parse_timestamp_utc, raw)

    if value is not None:
        assert isinstance(value, datetime)
        assert value.utcoffset() == timedelta(0)
        assert value.tzinfo is UTC
        assert EARLIEST_INSTANT <= value < END_OF_INSTANTS


@FUZZ
@given(st.one_of(st.text(), local_time_text))
def test_a_local_time_is_a_time_of_day_or_rejected(raw: str) -> None:
    value = outcome(lambda text: parse_local_time(text, column="start_time_local"), raw)

    if value is not None:
        assert isinstance(value, time)
        assert value.tzinfo is None
        assert raw.strip().isascii()


@FUZZ
@given(st.one_of(st.text(), number, st.builds(lambda pad, n: pad + n + pad, blank, number)))
# Found by this test: int() raised ValueError (not RejectedRow) on more than 4300 digits.
@example("9" * 5000)
@example("0" * 5000 + "3")
def test_a_day_of_week_is_0_to_6_or_rejected(raw: str) -> None:
    value = outcome(parse_day_of_week, raw)

    if value is not None:
        assert value in range(7)
        assert raw.strip().isascii()


zone_text = st.one_of(
    st.text(),
    st.sampled_from(sorted(known_timezones())).map(
        lambda name: name  # some names are spelled with blanks or case changes below
    ),
    st.builds(lambda pad, name: pad + name + pad, blank, st.sampled_from(["UTC", "America/Chicago", "Asia/Tokyo"])),
    st.sampled_from(
        [
            "america/chicago",
            "../../../etc/passwd",
            "/etc/localtime",
            "America/../Europe/Paris",
            "America/Chicago\x00",
            "Etc/GMT+14",
            "Etc/GMT+99",
            "posixrules",
            "Factory",
            "localtime",
            ".",
            "",
        ]
    ),
)


@FUZZ
@given(zone_text)
def test_a_timezone_is_a_known_iana_name_or_rejected(raw: str) -> None:
    value = outcome(parse_timezone, raw)

    if value is not None:
        assert value in known_timezones()
        assert value == raw.strip()


field = st.one_of(st.text(max_size=30), timestamp_text, local_time_text, number, zone_text)


@FUZZ
@given(
    st.sampled_from([(poll_from_fields, 3), (hours_from_fields, 4), (timezone_from_fields, 2)]),
    st.lists(field, min_size=4, max_size=4),
)
def test_a_row_parser_returns_a_record_or_rejects_the_row(
    parser_and_width: tuple[Callable[[list[str]], tuple[object, ...]], int], fields: list[str]
) -> None:
    parse, width = parser_and_width

    record = outcome(lambda _: parse(fields[:width]), "")

    if record is not None:
        assert len(record) == width
        assert record[0] == fields[0].strip()
