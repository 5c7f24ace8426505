"""The whole report from the database: which stores get rows, `now`, and the numbers.

The arithmetic itself is tested in test_intervals*.py; these tests check
that the database side feeds it correctly, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest

from reports.engine.csv_row import HEADER
from reports.engine.units import to_instant
from reports.selectors import reported_store_ids, store_inputs
from reports.services import NoPollsError, report_now, report_write_csv
from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

MONDAY_NOON_CHICAGO = datetime(2023, 1, 23, 18, 0, tzinfo=UTC)  # 12:00 CST


def build(now: datetime) -> dict[str, list[str]]:
    out = io.StringIO()
    report_write_csv(now=now, out=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == HEADER
    return {row[0]: row[1:] for row in rows[1:]}


def poll(store_id: str, moment: datetime, status: str = "active") -> None:
    PollFactory(store=StoreFactory(id=store_id), timestamp_utc=moment, status=status)


def test_worked_example_from_semantics_with_the_chicago_default() -> None:
    store = StoreFactory(id="s1", timezone=None)
    BusinessHoursFactory(store=store, day_of_week=0, start_time_local=time(9), end_time_local=time(12))
    poll("s1", datetime(2023, 1, 23, 16, 14, tzinfo=UTC), "active")  # 10:14 CST
    poll("s1", datetime(2023, 1, 23, 17, 15, tzinfo=UTC), "inactive")  # 11:15 CST

    rows = build(MONDAY_NOON_CHICAGO)

    # Up 104.5 min = 1.7416 h, down 75.5 min = 1.2583 h; the last hour (11:00-12:00) is all down.
    assert rows == {"s1": ["0.00", "1.74", "1.74", "60.00", "1.26", "1.26"]}


def test_a_store_without_hours_is_open_all_week() -> None:
    poll("s24", datetime(2023, 1, 23, 12, 0, tzinfo=UTC), "active")

    assert build(MONDAY_NOON_CHICAGO)["s24"] == ["60.00", "24.00", "168.00", "0.00", "0.00", "0.00"]


def test_the_store_timezone_places_business_hours() -> None:
    store = StoreFactory(id="kolkata", timezone="Asia/Kolkata")
    # Monday 20:00-22:00 IST is 14:30-16:30 UTC.
    BusinessHoursFactory(store=store, day_of_week=0, start_time_local=time(20), end_time_local=time(22))
    poll("kolkata", datetime(2023, 1, 23, 15, 0, tzinfo=UTC), "inactive")

    rows = build(MONDAY_NOON_CHICAGO)

    assert rows["kolkata"] == ["0.00", "0.00", "0.00", "0.00", "2.00", "2.00"]


def test_a_store_with_only_out_of_hours_polls_gets_zeros() -> None:
    store = StoreFactory(id="closed", timezone="UTC")
    BusinessHoursFactory(store=store, day_of_week=0, start_time_local=time(9), end_time_local=time(10))
    poll("closed", datetime(2023, 1, 23, 11, 0, tzinfo=UTC), "active")

    assert build(MONDAY_NOON_CHICAGO)["closed"] == ["0.00"] * 6


def test_a_store_whose_polls_are_all_older_than_a_week_gets_no_row() -> None:
    poll("old", datetime(2023, 1, 16, 17, 59, 59, tzinfo=UTC))
    poll("fresh", datetime(2023, 1, 16, 18, 0, tzinfo=UTC))

    rows = build(MONDAY_NOON_CHICAGO)

    assert "old" not in rows
    assert "fresh" in rows


def test_a_poll_exactly_at_now_makes_the_store_a_row() -> None:
    poll("at-now", MONDAY_NOON_CHICAGO, "inactive")

    assert build(MONDAY_NOON_CHICAGO)["at-now"] == ["0.00", "0.00", "0.00", "60.00", "24.00", "168.00"]


def test_as_of_in_the_past_ignores_later_polls() -> None:
    poll("s", datetime(2023, 1, 23, 10, 0, tzinfo=UTC), "active")
    poll("s", datetime(2023, 1, 23, 11, 0, tzinfo=UTC), "inactive")
    poll("later-store", datetime(2023, 1, 23, 11, 0, tzinfo=UTC))

    rows = build(datetime(2023, 1, 23, 10, 30, tzinfo=UTC))

    assert rows == {"s": ["60.00", "24.00", "168.00", "0.00", "0.00", "0.00"]}


def test_now_defaults_to_the_latest_poll() -> None:
    poll("a", datetime(2023, 1, 23, 10, 0, tzinfo=UTC))
    poll("b", datetime(2023, 1, 24, 9, 30, 15, 250, tzinfo=UTC))

    assert report_now(None) == datetime(2023, 1, 24, 9, 30, 15, 250, tzinfo=UTC)
    assert report_now(MONDAY_NOON_CHICAGO) == MONDAY_NOON_CHICAGO


def test_without_polls_there_is_no_default_now() -> None:
    with pytest.raises(NoPollsError):
        report_now(None)


def test_rows_come_for_every_reported_store_across_chunks() -> None:
    for number in range(25):
        poll(f"store-{number:02d}", datetime(2023, 1, 23, 12, number, tzinfo=UTC))
    out = io.StringIO()

    summary = report_write_csv(now=MONDAY_NOON_CHICAGO, out=out, chunk_size=4)

    ids = [line.split(",")[0] for line in out.getvalue().splitlines()[1:]]
    assert summary.rows == 25
    assert ids == sorted(f"store-{number:02d}" for number in range(25))


def test_the_rows_are_the_reported_stores_when_chunks_hold_stores_without_a_poll_in_the_week() -> None:
    # build_report cuts the whole fleet into chunks and keeps each chunk's polled
    # stores: the same stores, in the same order, as the fan-out's plan reads.
    for number in range(12):
        store_id = f"store-{number:02d}"
        if number % 3 == 0:
            StoreFactory(id=store_id)  # never polled
        elif number % 3 == 1:
            poll(store_id, MONDAY_NOON_CHICAGO - timedelta(days=7, microseconds=1))  # just before the week
        else:
            poll(store_id, MONDAY_NOON_CHICAGO - timedelta(days=7))  # the week's first instant
    out = io.StringIO()

    summary = report_write_csv(now=MONDAY_NOON_CHICAGO, out=out, chunk_size=2)

    ids = [line.split(",")[0] for line in out.getvalue().splitlines()[1:]]
    assert ids == reported_store_ids(MONDAY_NOON_CHICAGO) == [f"store-{number:02d}" for number in (2, 5, 8, 11)]
    assert summary.rows == 4


def test_poll_instants_come_back_from_the_database_as_exact_microseconds() -> None:
    moments = [datetime(2023, 1, 23, 17, 0, 0, 1, tzinfo=UTC), datetime(2023, 1, 23, 17, 30, tzinfo=UTC)]
    poll("precise", moments[0], "active")
    poll("precise", moments[1], "inactive")

    (inputs,) = store_inputs(MONDAY_NOON_CHICAGO, ["precise"])

    assert inputs.polls == [(to_instant(moments[0]), True), (to_instant(moments[1]), False)]
    assert inputs.polls[0][0] % 1_000_000 == 1


def test_each_column_is_rounded_half_up_on_its_own_exact_value() -> None:
    # Active 1 s before the last hour, inactive 1.6 s into it: the midpoint is 0.3 s
    # into the hour, so 0.005 min up and 59.995 min down, written 0.01 and 60.00.
    poll("s", MONDAY_NOON_CHICAGO - timedelta(hours=1, seconds=1), "active")
    poll("s", MONDAY_NOON_CHICAGO - timedelta(hours=1) + timedelta(seconds=1.6), "inactive")

    assert build(MONDAY_NOON_CHICAGO)["s"] == ["0.01", "23.00", "167.00", "60.00", "1.00", "1.00"]


def test_a_poll_exactly_at_the_start_of_the_week_is_an_observation() -> None:
    poll("at-start", MONDAY_NOON_CHICAGO - timedelta(hours=168), "inactive")
    poll("just-before", MONDAY_NOON_CHICAGO - timedelta(hours=168, microseconds=1), "inactive")

    rows = build(MONDAY_NOON_CHICAGO)

    assert rows["at-start"] == ["0.00", "0.00", "0.00", "60.00", "24.00", "168.00"]
    assert "just-before" not in rows
