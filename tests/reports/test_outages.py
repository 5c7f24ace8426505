"""Outages from the interval engine: contiguous downtime within business hours, and the polls behind it.

Pure tests of :mod:`reports.engine.intervals` (``outages``, ``observations_ruling``,
``outage_seconds_in_window``, ``store_timeline``), then the store week read
from the database by :mod:`reports.outages`.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from reports.engine.intervals import (
    HoursRow,
    Observations,
    Outage,
    Stretch,
    business_intervals_for_week,
    observations_ruling,
    outage_seconds_in_window,
    outages,
    status_stretches,
    store_timeline,
    store_uptime,
)
from reports.engine.units import DAY, HOUR, WEEK, to_instant
from reports.models import Report
from reports.outages import (
    StoreWeek,
    UnknownStore,
    store_week,
    store_week_at,
    store_week_in_report,
    window_totals,
)
from reports.presentation.store_week import local_days, outage_records, timeline_days
from reports.selectors import StoreInputs
from reports.services import NoPollsError
from stores.models import Store
from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

CHICAGO = ZoneInfo("America/Chicago")
MONDAY_NOON_CHICAGO = datetime(2023, 1, 23, 18, 0, tzinfo=UTC)  # 12:00 CST
MINUTE = 60_000_000


def at(moment: datetime) -> int:
    return to_instant(moment)


def chicago(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2023, 1, day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def monday_nine_to_noon() -> list[HoursRow]:
    return [HoursRow(0, time(9), time(12))]


class TestOutagesFromTheEngine:
    def test_the_worked_example_has_one_outage_from_the_midpoint_to_closing(self) -> None:
        now = at(MONDAY_NOON_CHICAGO)
        business = business_intervals_for_week(monday_nine_to_noon(), CHICAGO, now)
        polls = [(at(chicago(23, 10, 14)), True), (at(chicago(23, 11, 15)), False)]

        timeline = store_timeline(polls, business, now)

        [outage] = timeline.outages
        assert outage.start == at(chicago(23, 10, 44)) + 30_000_000
        assert outage.end == at(chicago(23, 12))
        assert outage.seconds == Fraction(755, 10) * 60
        assert outage.polls == (at(chicago(23, 11, 15)),)

    def test_closing_time_ends_an_outage_so_a_store_down_overnight_has_two(self) -> None:
        hours = [HoursRow(day, time(9), time(12)) for day in range(7)]
        now = at(chicago(24, 12))
        business = business_intervals_for_week(hours, CHICAGO, now)
        down_monday = at(chicago(23, 11))
        polls = [(at(chicago(22, 10)), True), (down_monday, False)]

        found = store_timeline(polls, business, now).outages

        # Sunday's poll rules until 22:30 Sunday; the Monday poll rules Monday and Tuesday.
        assert [(o.start_half_us, o.end_half_us) for o in found] == [
            (2 * at(chicago(23, 9)), 2 * at(chicago(23, 12))),
            (2 * at(chicago(24, 9)), 2 * at(chicago(24, 12))),
        ]
        assert all(outage.polls == (down_monday,) for outage in found)

    def test_an_outage_rests_on_a_poll_taken_before_opening_time_of_an_earlier_day(self) -> None:
        hours = [HoursRow(day, time(9), time(12)) for day in range(7)]
        now = at(chicago(24, 12))
        business = business_intervals_for_week(hours, CHICAGO, now)
        last_seen_down = at(chicago(23, 11, 50))
        polls = [(last_seen_down, False), (at(chicago(24, 10)), True)]

        found = store_timeline(polls, business, now).outages

        # Until the midpoint of Monday 11:50 and Tuesday 10:00 (Monday 22:55), so all of Monday; Tuesday is up.
        assert found[-1].end == at(chicago(23, 12))
        assert found[-1].polls == (last_seen_down,)

    def test_contiguous_down_stretches_from_elsewhere_are_merged_into_one_outage(self) -> None:
        stretches = [Stretch(0, 10, False), Stretch(10, 20, False), Stretch(20, 30, True), Stretch(40, 50, False)]

        found = outages(stretches, Observations([], []))

        assert [(o.start_half_us, o.end_half_us) for o in found] == [(0, 20), (40, 50)]

    def test_a_store_without_observations_has_no_outage(self) -> None:
        now = at(MONDAY_NOON_CHICAGO)
        business = business_intervals_for_week(monday_nine_to_noon(), CHICAGO, now)

        timeline = store_timeline([(at(chicago(23, 8)), False)], business, now)

        assert timeline.outages == []
        assert timeline.uptime == store_uptime([(at(chicago(23, 8)), False)], business, now)

    def test_the_timeline_uses_exactly_the_stretches_and_numbers_of_the_report(self) -> None:
        hours = [HoursRow(0, time(9), time(17)), HoursRow(2, time(22), time(2))]
        now = at(datetime(2023, 1, 25, 18, tzinfo=UTC))
        business = business_intervals_for_week(hours, CHICAGO, now)
        polls = [(now - n * 3 * HOUR + 7 * MINUTE, n % 3 != 0) for n in range(56, -1, -1)]

        timeline = store_timeline(polls, business, now)

        assert timeline.stretches == status_stretches(polls, business, now)
        assert timeline.uptime == store_uptime(polls, business, now)


class TestPollsAnOutageRestsOn:
    def test_each_observation_rules_to_the_midpoints_with_its_neighbours(self) -> None:
        seen = Observations([100, 200, 300], [False, False, True])

        # In half-microseconds the reaches are (-inf, 300), [300, 500), [500, +inf).
        assert observations_ruling(seen, 0, 300) == (100,)
        assert observations_ruling(seen, 0, 301) == (100, 200)
        assert observations_ruling(seen, 300, 500) == (200,)
        assert observations_ruling(seen, 499, 10_000) == (200, 300)

    def test_an_empty_span_rests_on_nothing(self) -> None:
        assert observations_ruling(Observations([100], [False]), 50, 50) == ()


class TestOutagesInAWindow:
    def test_an_outage_cut_by_the_window_counts_with_its_part_inside(self) -> None:
        # Outage bounds are half-microseconds: these are [0 h, 1 h) and [2 h, 3 h).
        found = [Outage(0, 2 * HOUR, (0,)), Outage(4 * HOUR, 6 * HOUR, (0,))]

        assert outage_seconds_in_window(found, HOUR // 2, 3 * HOUR) == [Fraction(1800), Fraction(3600)]
        assert outage_seconds_in_window(found, HOUR, 2 * HOUR) == []
        assert outage_seconds_in_window(found, 2 * HOUR + HOUR // 4, 4 * HOUR) == [Fraction(2700)]

    def test_outages_add_up_to_the_downtime_of_every_window(self) -> None:
        hours = [HoursRow(day, time(7), time(23)) for day in range(7)]
        now = at(datetime(2023, 1, 25, 18, 30, tzinfo=UTC))
        business = business_intervals_for_week(hours, CHICAGO, now)
        polls = [(now - n * 47 * MINUTE, n % 5 in (1, 2)) for n in range(220, -1, -1)]

        timeline = store_timeline(polls, business, now)

        for length, window in [(HOUR, timeline.uptime.last_hour), (DAY, timeline.uptime.last_day)]:
            assert sum(outage_seconds_in_window(timeline.outages, now - length, now), Fraction(0)) == window.down
        assert sum((outage.seconds for outage in timeline.outages), Fraction(0)) == timeline.uptime.last_week.down
        assert timeline.outages


@pytest.mark.django_db
class TestStoreWeekFromTheDatabase:
    def test_the_latest_poll_is_the_default_as_of(self) -> None:
        store = StoreFactory(id="s1", timezone=None)
        BusinessHoursFactory(store=store, day_of_week=0, start_time_local=time(9), end_time_local=time(12))
        PollFactory(store=store, timestamp_utc=chicago(23, 10, 14), status="active")
        PollFactory(store=store, timestamp_utc=chicago(23, 11, 15), status="inactive")
        PollFactory(store=StoreFactory(id="other"), timestamp_utc=MONDAY_NOON_CHICAGO, status="active")

        week = store_week_at(stores=Store.objects.all(), store_id="s1", as_of=None)

        assert week.now == MONDAY_NOON_CHICAGO
        assert week.zone.key == "America/Chicago" and not week.zone_given
        [record] = outage_records(week)
        assert record.start_local.isoformat() == "2023-01-23T10:44:30-06:00"
        assert record.end_utc == datetime(2023, 1, 23, 18, tzinfo=UTC)
        assert record.seconds == 75.5 * 60
        assert record.poll_times_utc == (chicago(23, 11, 15),)
        assert record.ongoing and not record.cut_at_window_start
        totals = {total.window.name: total for total in window_totals(week.timeline, week.now_us)}
        assert totals["last_hour"].outages == 1
        assert totals["last_hour"].longest_outage_seconds == 3600
        assert totals["last_week"].uptime_percent == Fraction(1045, 1800) * 100

    def test_an_unknown_store_is_refused(self) -> None:
        PollFactory()

        with pytest.raises(UnknownStore):
            store_week_at(stores=Store.objects.all(), store_id="nope", as_of=None)

    def test_without_any_poll_there_is_no_default_as_of(self) -> None:
        StoreFactory(id="lonely")

        with pytest.raises(NoPollsError):
            store_week_at(stores=Store.objects.all(), store_id="lonely", as_of=None)

    def test_a_report_without_shards_reads_the_current_database_at_its_as_of(self) -> None:
        PollFactory(store=StoreFactory(id="s1"), timestamp_utc=MONDAY_NOON_CHICAGO, status="inactive")
        report = Report.objects.create(as_of=MONDAY_NOON_CHICAGO)

        week = store_week_in_report(report=report, store_id="s1")

        assert week is not None and week.timeline.uptime.last_week.down == 7 * 24 * 3600
        assert store_week_in_report(report=report, store_id="not-in-it") is None


class TestTimelineDays:
    def week(self, now: datetime, zone: str = "America/Chicago") -> StoreWeek:
        polls = [(at(now) - 3 * DAY, True), (at(now) - 30 * HOUR, False), (at(now) - 2 * HOUR, True)]
        return store_week(StoreInputs("s", zone, [HoursRow(d, time(9), time(17)) for d in range(7)], polls), now)

    def test_a_week_not_ending_at_midnight_touches_eight_local_days(self) -> None:
        week = self.week(datetime(2023, 1, 25, 18, tzinfo=UTC))

        days = local_days(week)

        assert len(days) == 8
        assert days[0][0].isoformat() == "2023-01-18" and days[-1][0].isoformat() == "2023-01-25"
        assert all(end - start == DAY for _, start, end in days)

    def test_a_week_ending_at_local_midnight_touches_seven(self) -> None:
        week = self.week(datetime(2023, 1, 26, 6, tzinfo=UTC))  # 00:00 in Chicago

        assert len(local_days(week)) == 7

    def test_each_day_row_adds_up_to_the_week(self) -> None:
        week = self.week(datetime(2023, 1, 25, 18, tzinfo=UTC))

        rows = timeline_days(week)

        uptime = week.timeline.uptime.last_week
        assert sum((row.up_seconds for row in rows), Fraction(0)) == uptime.up
        assert sum((row.down_seconds for row in rows), Fraction(0)) == uptime.down
        assert sum((row.open_seconds for row in rows), Fraction(0)) == uptime.up + uptime.down
        assert sum(len(row.ticks) for row in rows) == 3
        assert all(0 <= span.start < span.end <= 1 for row in rows for span in row.spans)

    def test_a_dst_day_row_is_as_long_as_the_day_really_is(self) -> None:
        week = self.week(datetime(2023, 3, 14, 18, tzinfo=UTC))

        lengths = {day.isoformat(): end - start for day, start, end in local_days(week)}

        assert lengths["2023-03-12"] == 23 * HOUR
        assert lengths["2023-03-13"] == 24 * HOUR


def test_the_week_window_is_168_hours() -> None:
    assert timedelta(microseconds=WEEK) == timedelta(hours=168)
