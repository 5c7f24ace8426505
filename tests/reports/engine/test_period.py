"""Period reports, rule by rule: each case worked out by hand from SEMANTICS v2 ("Coverage", "Period reports")."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from reports.engine.calendar_periods import calendar_period
from reports.engine.intervals import HoursRow, Poll, observations_between
from reports.engine.period import (
    PeriodNumbers,
    business_intervals_for_period,
    no_data_by_window,
    period_is_valid,
    period_numbers,
    period_outage_spans,
)
from reports.engine.period_csv import period_header, period_row, round_half_away_from_zero
from reports.engine.units import LAST_DAY, LAST_HOUR, LAST_WEEK, to_instant

UTC_ZONE = ZoneInfo("UTC")
DAY = datetime(2023, 1, 25, tzinfo=UTC)  # a Wednesday


def at(hour: int, minute: int = 0, second: int = 0, *, day: datetime = DAY) -> int:
    return to_instant(day + timedelta(hours=hour, minutes=minute, seconds=second))


def poll(instant: int, active: bool) -> Poll:
    return (instant, active)


def every_day(start: time, end: time) -> list[HoursRow]:
    return [HoursRow(day, start, end) for day in range(7)]


def numbers(hours: list[HoursRow], polls: list[Poll], start: int, end: int, tz: ZoneInfo = UTC_ZONE) -> PeriodNumbers:
    return period_numbers(polls, business_intervals_for_period(hours, tz, start, end), start, end)


def row(
    hours: list[HoursRow], polls: list[Poll], start: int, end: int, sla: str | None = None, tz: ZoneInfo = UTC_ZONE
) -> dict[str, str]:
    cells = period_row("s", numbers(hours, polls, start, end, tz), Decimal(sla) if sla is not None else None)
    return dict(zip(period_header(with_sla=sla is not None), cells, strict=True))


OPEN_9_12 = every_day(time(9), time(12))
WORKED_POLLS = [poll(at(10, 14), True), poll(at(11, 15), False)]


def test_the_header_is_the_contracts_columns_in_order() -> None:
    assert ",".join(period_header(with_sla=True)) == (
        "store_id,business_hours,uptime_hours,downtime_hours,no_data_hours,uptime_percent,coverage_percent,"
        "outages,longest_outage_minutes,mean_outage_minutes,sla_target_percent,sla_met,error_budget_minutes_left"
    )
    assert period_header(with_sla=False) == period_header(with_sla=True)[:10]


def test_the_worked_example_over_its_day() -> None:
    # Up 09:00-10:44:30 (104.5 min), down 10:44:30-12:00 (75.5 min); the 10:14 poll's reach
    # starts at 09:14, so 09:00-09:14 is unobserved: 14 min of no data.
    assert row(OPEN_9_12, WORKED_POLLS, at(0), at(24), sla="99.5") == {
        "store_id": "s",
        "business_hours": "3.00",
        "uptime_hours": "1.74",  # 104.5 / 60 = 1.7416..
        "downtime_hours": "1.26",  # 75.5 / 60 = 1.2583..
        "no_data_hours": "0.23",  # 14 / 60 = 0.2333..
        "uptime_percent": "58.06",  # 104.5 / 180 = 58.0555..
        "coverage_percent": "92.22",  # 166 / 180 = 92.222..
        "outages": "1",
        "longest_outage_minutes": "75.50",
        "mean_outage_minutes": "75.50",
        "sla_target_percent": "99.50",
        "sla_met": "no",
        "error_budget_minutes_left": "-74.60",  # 0.005 x 180 - 75.5
    }


def test_coverage_at_the_r_boundary_is_observed_and_one_microsecond_beyond_is_not() -> None:
    # Open 09:00-11:00, one poll at 10:00: every instant is at most exactly 1 h away (|t - o| <= R).
    open_9_11 = every_day(time(9), time(11))
    assert numbers(open_9_11, [poll(at(10), True)], at(0), at(24)).no_data == 0
    # At 10:00 + 1 µs the opening instant 09:00 is 1 h + 1 µs away: unobserved, 1 µs of it.
    late = numbers(open_9_11, [poll(at(10) + 1, True)], at(0), at(24))
    assert late.no_data == Fraction(1, 1_000_000)
    # Open 09:00-12:00, a poll at 10:30 observes 09:30-11:30 only: an hour of no data.
    assert numbers(OPEN_9_12, [poll(at(10, 30), True)], at(0), at(24)).no_data == 3600


def test_a_store_with_business_time_but_no_observation_has_all_of_it_as_no_data() -> None:
    # Its only poll is at 08:00, before opening: a row (a poll in the period), no observation.
    cells = row(OPEN_9_12, [poll(at(8), False)], at(0), at(24), sla="99.5")
    assert cells == {
        "store_id": "s",
        "business_hours": "3.00",
        "uptime_hours": "0.00",
        "downtime_hours": "0.00",
        "no_data_hours": "3.00",
        "uptime_percent": "",
        "coverage_percent": "0.00",
        "outages": "0",
        "longest_outage_minutes": "0.00",
        "mean_outage_minutes": "",
        "sla_target_percent": "99.50",
        "sla_met": "",
        "error_budget_minutes_left": "",
    }


def test_a_store_with_no_business_time_in_the_period_has_empty_percentages() -> None:
    # Open Mondays only; the period is Wednesday.
    monday = [HoursRow(0, time(9), time(17))]
    cells = row(monday, [poll(at(10), True)], at(0), at(24))
    assert (cells["business_hours"], cells["uptime_hours"], cells["no_data_hours"]) == ("0.00", "0.00", "0.00")
    assert (cells["uptime_percent"], cells["coverage_percent"], cells["mean_outage_minutes"]) == ("", "", "")


def test_closing_time_ends_an_outage_so_a_store_down_over_night_has_two() -> None:
    # Open 09:00-17:00; inactive at 16:00 on day 1 and 10:00 on day 2, active at 12:00 on day 2.
    day2 = DAY + timedelta(days=1)
    hours = every_day(time(9), time(17))
    polls = [poll(at(16), False), poll(at(10, day=day2), False), poll(at(12, day=day2), True)]
    result = numbers(hours, polls, at(0), at(0, day=DAY + timedelta(days=2)))
    assert result.outages == (8 * 3600, 2 * 3600)
    assert result.down == 10 * 3600 == sum(result.outages)
    # The period's start cuts the first outage: from 12:00 only.
    cut = numbers(hours, polls, at(12), at(0, day=DAY + timedelta(days=2)))
    assert cut.outages == (5 * 3600, 2 * 3600)
    assert cut.down == sum(cut.outages)


def test_shifts_that_touch_do_not_end_an_outage() -> None:
    hours = [HoursRow(2, time(9), time(12)), HoursRow(2, time(12), time(15))]
    result = numbers(hours, [poll(at(11), False), poll(at(14), False)], at(0), at(24))
    assert result.outages == (6 * 3600,)


def test_the_periods_end_cuts_an_outage() -> None:
    # 24x7, down all period: one outage exactly the period long.
    result = numbers([], [poll(at(10), False)], at(9), at(11))
    assert result.outages == (2 * 3600,)
    assert result.longest_outage == result.down == 2 * 3600


def test_a_poll_exactly_at_end_is_an_observation_and_end_is_not_measured() -> None:
    # 24x7, period 10:00-12:00; polls 10:00 active and 12:00 inactive: the midpoint 11:00 splits it.
    polls = [poll(at(10), True), poll(at(12), False)]
    result = numbers([], polls, at(10), at(12))
    assert (result.up, result.down) == (3600, 3600)
    # A poll just after end is not used: the period is all up.
    later = numbers([], [poll(at(10), True), poll(at(12) + 1, False)], at(10), at(12))
    assert (later.up, later.down) == (7200, 0)


def test_a_poll_at_end_is_not_an_observation_when_end_is_closing_time() -> None:
    hours = every_day(time(9), time(12))
    observations = observations_between(
        [poll(at(11), True), poll(at(12), False)],
        business_intervals_for_period(hours, UTC_ZONE, at(0), at(12)),
        at(0),
        at(12),
    )
    assert observations.times == [at(11)]


def test_a_dst_day_counts_the_real_hours() -> None:
    # New York springs forward on 2024-03-10 at 02:00 local; a 24x7 store's local day is 23 h,
    # and a store open 00:00-04:00 local is open 3 real hours that day.
    tz = ZoneInfo("America/New_York")
    start = to_instant(datetime(2024, 3, 10, tzinfo=tz))
    end = to_instant(datetime(2024, 3, 11, tzinfo=tz))
    assert numbers([], [poll(start, True)], start, end, tz).business == 23 * 3600
    early = [HoursRow(6, time(0), time(4))]  # 2024-03-10 is a Sunday
    result = numbers(early, [poll(start + 3600 * 1_000_000, False)], start, end, tz)
    assert result.business == result.down == 3 * 3600
    assert result.outages == (3 * 3600,)
    # Covered from 00:00 to 02:00 local (1 h either side of 01:00 EST = 06:00 UTC); 03:00-04:00 EDT
    # (07:00-08:00 UTC) is more than an hour from the poll.
    assert result.no_data == 3600


def test_an_sla_met_exactly_at_the_target() -> None:
    # 24x7 over 200 h: up 199 h, down 1 h (the midpoint of polls 2 h apart at the end) = 99.5 % exactly.
    start, end = at(0), at(0) + 200 * 3600 * 1_000_000
    polls = [poll(start, True), poll(end - 2 * 3600 * 1_000_000, True), poll(end, False)]
    cells = row([], polls, start, end, sla="99.5")
    assert (cells["uptime_hours"], cells["downtime_hours"]) == ("199.00", "1.00")
    assert (cells["uptime_percent"], cells["sla_met"], cells["error_budget_minutes_left"]) == ("99.50", "yes", "0.00")
    # One microsecond more downtime misses it, although it still rounds to 99.50 %.
    missed = row([], [*polls[:2], poll(end - 1, False)], start, end, sla="99.5")
    assert (missed["uptime_percent"], missed["sla_met"]) == ("99.50", "no")


def test_a_negative_error_budget_is_rounded_half_away_from_zero() -> None:
    # 24x7 over 10 h (600 min), T = 99.5: budget 3 min. Down 3.125 min -> -0.125 -> "-0.13" (half up: "-0.12").
    start, end = at(0), at(10)
    down_from = end - 375 * 1_000_000  # the midpoint with the poll at end is 187.5 s (3.125 min) before it
    cells = row([], [poll(start, True), poll(down_from, True), poll(end, False)], start, end, sla="99.5")
    assert cells["downtime_hours"] == "0.05"
    assert cells["error_budget_minutes_left"] == "-0.13"
    assert round_half_away_from_zero(Fraction(-125, 1000) * 60, 60) == "-0.13"
    assert round_half_away_from_zero(Fraction(125, 1000) * 60, 60) == "0.13"
    assert round_half_away_from_zero(Fraction(-1, 1000) * 60, 60) == "0.00"


def test_a_target_with_three_decimals_is_written_with_them() -> None:
    assert row([], [poll(at(1), True)], at(0), at(2), sla="99.995")["sla_target_percent"] == "99.995"
    assert row([], [poll(at(1), True)], at(0), at(2), sla="100")["sla_target_percent"] == "100.00"


def test_polls_outside_the_period_are_not_observations() -> None:
    # An inactive poll 1 minute before the period would rule its start if it were used.
    result = numbers([], [poll(at(9, 59), False), poll(at(11), True)], at(10), at(12))
    assert (result.up, result.down) == (7200, 0)
    assert result.no_data == 0


def test_the_fixed_reports_no_data_per_window() -> None:
    now = at(12)
    hours: list[HoursRow] = []
    business = business_intervals_for_period(hours, UTC_ZONE, now - 7 * 86_400 * 1_000_000, now)
    observations = observations_between([poll(at(11, 30), True)], business, now - 7 * 86_400 * 1_000_000, now)
    no_data = no_data_by_window(observations, business, now)
    assert no_data[LAST_HOUR] == 0
    assert no_data[LAST_DAY] == (24 - 2) * 3600 + 30 * 60  # 10:30-12:00 is observed
    assert no_data[LAST_WEEK] == (168 - 2) * 3600 + 30 * 60


def test_a_period_is_at_most_93_days_and_not_empty() -> None:
    assert period_is_valid(at(0), at(0) + 93 * 86_400 * 1_000_000)
    assert not period_is_valid(at(0), at(0) + 93 * 86_400 * 1_000_000 + 1)
    assert not period_is_valid(at(1), at(1))


@pytest.mark.parametrize(
    ("name", "now", "zone", "expected"),
    [
        (
            "last_7_days",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "UTC",
            ("2023-03-08T12:00:00+00:00", "2023-03-15T12:00:00+00:00"),
        ),
        (
            "last_30_days",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "UTC",
            ("2023-02-13T12:00:00+00:00", "2023-03-15T12:00:00+00:00"),
        ),
        # The previous day, in a zone whose midnight is not UTC's (Tokyo, UTC+9: 21:00 on the 15th there).
        (
            "previous_day",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "Asia/Tokyo",
            ("2023-03-13T15:00:00+00:00", "2023-03-14T15:00:00+00:00"),
        ),
        # Across the spring-forward night (America/Chicago, 2023-03-12): the day is 23 hours long.
        (
            "previous_day",
            datetime(2023, 3, 13, 12, tzinfo=UTC),
            "America/Chicago",
            ("2023-03-12T06:00:00+00:00", "2023-03-13T05:00:00+00:00"),
        ),
        # Wednesday 2023-03-15: the previous week is Monday 03-06 to Monday 03-13.
        (
            "previous_week",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "UTC",
            ("2023-03-06T00:00:00+00:00", "2023-03-13T00:00:00+00:00"),
        ),
        # On a Monday the current week has just begun.
        (
            "previous_week",
            datetime(2023, 3, 13, 0, tzinfo=UTC),
            "UTC",
            ("2023-03-06T00:00:00+00:00", "2023-03-13T00:00:00+00:00"),
        ),
        (
            "previous_month",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "UTC",
            ("2023-02-01T00:00:00+00:00", "2023-03-01T00:00:00+00:00"),
        ),
        (
            "previous_month",
            datetime(2023, 1, 5, tzinfo=UTC),
            "UTC",
            ("2022-12-01T00:00:00+00:00", "2023-01-01T00:00:00+00:00"),
        ),
        # In New York, March 2023 has its spring change: the month is 743 real hours.
        (
            "previous_month",
            datetime(2023, 4, 2, tzinfo=UTC),
            "America/New_York",
            ("2023-03-01T05:00:00+00:00", "2023-04-01T04:00:00+00:00"),
        ),
        # 2023-03-01 02:00 UTC is still February in New York.
        (
            "month_to_date",
            datetime(2023, 3, 1, 2, tzinfo=UTC),
            "America/New_York",
            ("2023-02-01T05:00:00+00:00", "2023-03-01T02:00:00+00:00"),
        ),
        (
            "month_to_date",
            datetime(2023, 3, 15, 12, tzinfo=UTC),
            "Asia/Tokyo",
            ("2023-02-28T15:00:00+00:00", "2023-03-15T12:00:00+00:00"),
        ),
    ],
)
def test_named_periods_are_counted_in_the_zone_given(
    name: str, now: datetime, zone: str, expected: tuple[str, str]
) -> None:
    start, end = calendar_period(name, now, ZoneInfo(zone))  # type: ignore[arg-type]
    assert (start.isoformat(), end.isoformat()) == expected


def test_outage_spans_are_the_outages_measured() -> None:
    day2 = DAY + timedelta(days=1)
    hours = every_day(time(9), time(17))
    polls = [poll(at(16), False), poll(at(10, day=day2), False), poll(at(12, day=day2), True)]
    start, end = at(12), at(0, day=DAY + timedelta(days=2))
    spans = period_outage_spans(polls, business_intervals_for_period(hours, UTC_ZONE, start, end), start, end)
    assert spans == [(at(12), at(17)), (at(9, day=day2), at(11, day=day2))]
