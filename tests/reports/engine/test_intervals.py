"""Hand-computed checks of every rule in SEMANTICS, one small story per test.

Expected UTC instants are written out literally (not computed with zoneinfo) so that a
test can fail when the engine's zone handling is wrong.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from reports.engine.intervals import (
    HoursRow,
    Interval,
    Observations,
    Poll,
    PollSeries,
    StatusRuns,
    StoreUptime,
    Stretch,
    Uptime,
    business_intervals,
    business_intervals_for_week,
    observations_in_business,
    observations_ruling,
    shift_to_utc,
    status_at,
    status_runs_between,
    status_segments,
    status_stretches,
    store_uptime,
    union_of_intervals,
)
from reports.engine.units import DAY, HOUR, WEEK

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
MINUTE = 60_000_000
SECOND = 1_000_000

MONDAY, TUESDAY, WEDNESDAY, FRIDAY, SATURDAY, SUNDAY = 0, 1, 2, 4, 5, 6


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """A UTC wall time as microseconds since the epoch."""
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def row(day_of_week: int, start: str, end: str) -> HoursRow:
    return HoursRow(day_of_week, time.fromisoformat(start), time.fromisoformat(end))


def seconds(minutes: float) -> Fraction:
    return Fraction(minutes) * 60


def week_of(hours: list[HoursRow], tz: ZoneInfo, now: int) -> list[Interval]:
    return business_intervals_for_week(hours, tz, now)


def total(intervals: list[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def whole_microseconds(stretches: list[Stretch]) -> list[tuple[int, int, bool]]:
    """Stretches as ``(start, end, active)`` for bounds known to fall on whole microseconds."""
    assert all(s.start.denominator == 1 and s.end.denominator == 1 for s in stretches)
    return [(int(s.start), int(s.end), s.active) for s in stretches]


def business_in_window(business: list[Interval], start: int, end: int) -> Fraction:
    covered = sum(max(0, min(e, end) - max(s, start)) for s, e in business)
    return Fraction(covered, SECOND)


# --- The worked example --------------------------------------------------------------

# Wednesday 2024-01-17 in Chicago (CST, UTC-6): 09:00-12:00 local is 15:00-18:00 UTC.
EXAMPLE_HOURS = [row(WEDNESDAY, "09:00", "12:00")]
EXAMPLE_POLLS: list[Poll] = [(utc(2024, 1, 17, 16, 14), True), (utc(2024, 1, 17, 17, 15), False)]
EXAMPLE_NOW = utc(2024, 1, 17, 18, 30)  # 12:30 local, after closing


def test_worked_example_is_up_until_the_midpoint_between_the_polls() -> None:
    business = week_of(EXAMPLE_HOURS, CHICAGO, EXAMPLE_NOW)

    result = store_uptime(EXAMPLE_POLLS, business, EXAMPLE_NOW)

    # 09:00-10:44:30 up (104.5 min), 10:44:30-12:00 down (75.5 min).
    assert result.last_week == Uptime(up=seconds(104.5), down=seconds(75.5))
    assert result.last_day == Uptime(up=seconds(104.5), down=seconds(75.5))
    # Last hour = 11:30-12:30 local; only 11:30-12:00 is open, all of it down.
    assert result.last_hour == Uptime(up=Fraction(0), down=seconds(30))


def test_worked_example_stretches_change_at_10_44_30_local() -> None:
    business = week_of(EXAMPLE_HOURS, CHICAGO, EXAMPLE_NOW)

    stretches = status_stretches(EXAMPLE_POLLS, business, EXAMPLE_NOW)

    assert whole_microseconds(stretches) == [
        (utc(2024, 1, 17, 15), utc(2024, 1, 17, 16, 44, 30), True),
        (utc(2024, 1, 17, 16, 44, 30), utc(2024, 1, 17, 18), False),
    ]
    assert [s.seconds for s in stretches] == [seconds(104.5), seconds(75.5)]


def test_a_midpoint_on_a_half_microsecond_stays_exact() -> None:
    first = utc(2024, 1, 17, 16)
    polls: list[Poll] = [(first, True), (first + 1, False)]
    business = week_of(EXAMPLE_HOURS, CHICAGO, EXAMPLE_NOW)

    stretches = status_stretches(polls, business, EXAMPLE_NOW)

    assert stretches[0].end == Fraction(2 * first + 1, 2)
    # Up from 15:00Z to 16:00:00.0000005Z.
    assert store_uptime(polls, business, EXAMPLE_NOW).last_week.up == Fraction(2 * HOUR + 1, 2 * SECOND)


# --- Business time ---------------------------------------------------------------------


def test_an_overnight_shift_belongs_to_the_day_it_starts_on() -> None:
    # Friday 22:00 - Saturday 02:00 in Chicago (CST, UTC-6): Saturday 04:00-08:00 UTC.
    hours = [row(FRIDAY, "22:00", "02:00")]

    business = business_intervals(hours, CHICAGO, utc(2024, 1, 15), utc(2024, 1, 22))

    assert business == [(utc(2024, 1, 20, 4), utc(2024, 1, 20, 8))]


def test_an_overnight_shift_from_before_the_range_is_clipped_to_it() -> None:
    hours = [row(FRIDAY, "22:00", "02:00")]

    business = business_intervals(hours, CHICAGO, utc(2024, 1, 20, 6), utc(2024, 1, 21))

    assert business == [(utc(2024, 1, 20, 6), utc(2024, 1, 20, 8))]


def test_a_store_without_hours_is_open_all_the_time() -> None:
    now = utc(2024, 1, 17, 12)

    assert business_intervals([], CHICAGO, now - WEEK, now) == [(now - WEEK, now)]
    result = store_uptime([(now - DAY, True)], week_of([], CHICAGO, now), now)
    assert result.last_week == Uptime(up=Fraction(WEEK, SECOND), down=Fraction(0))


def test_an_empty_range_has_no_business_time() -> None:
    now = utc(2024, 1, 17, 12)

    assert business_intervals([], CHICAGO, now, now) == []
    assert business_intervals(EXAMPLE_HOURS, CHICAGO, now, now - 1) == []


def test_overlapping_and_touching_shifts_on_one_day_are_counted_once() -> None:
    # Monday 2024-01-15 in Chicago (UTC-6).  09-12, 11-14 and 13:00-13:30 overlap,
    # 14-15 touches them: one interval 09:00-15:00 local; 16-17 stays apart.
    hours = [
        row(MONDAY, "09:00", "12:00"),
        row(MONDAY, "11:00", "14:00"),
        row(MONDAY, "13:00", "13:30"),
        row(MONDAY, "14:00", "15:00"),
        row(MONDAY, "16:00", "17:00"),
    ]
    now = utc(2024, 1, 16)

    business = week_of(hours, CHICAGO, now)

    assert business == [
        (utc(2024, 1, 15, 15), utc(2024, 1, 15, 21)),
        (utc(2024, 1, 15, 22), utc(2024, 1, 15, 23)),
    ]
    result = store_uptime([(utc(2024, 1, 15, 16), True)], business, now)
    assert result.last_week == Uptime(up=Fraction(7 * HOUR, SECOND), down=Fraction(0))


def test_union_of_intervals_merges_overlaps_and_neighbours_and_drops_empties() -> None:
    assert union_of_intervals([(5, 9), (1, 3), (3, 4), (8, 12), (20, 20), (30, 25)]) == [(1, 4), (5, 12)]


def test_a_shift_whose_end_equals_its_start_lasts_a_whole_day() -> None:
    # Tuesday 09:00 - Wednesday 09:00 in Chicago: 15:00 UTC to 15:00 UTC next day.
    hours = [row(TUESDAY, "09:00", "09:00")]

    business = business_intervals(hours, CHICAGO, utc(2024, 1, 14), utc(2024, 1, 21))

    assert business == [(utc(2024, 1, 16, 15), utc(2024, 1, 17, 15))]


def test_a_whole_day_shift_over_spring_forward_is_23_hours_of_real_time() -> None:
    # Saturday 2024-03-09 03:00 EST (UTC-5) = 08:00 UTC, until Sunday 03:00 EDT
    # (UTC-4) = 07:00 UTC: the same wall time next day, 23 h later.
    hours = [row(SATURDAY, "03:00", "03:00")]

    business = business_intervals(hours, NEW_YORK, utc(2024, 3, 8), utc(2024, 3, 12))

    assert business == [(utc(2024, 3, 9, 8), utc(2024, 3, 10, 7))]


def test_an_end_of_23_59_59_is_taken_literally() -> None:
    # Every day 00:00-23:59:59 in Chicago leaves one second closed before each midnight.
    hours = [row(day, "00:00:00", "23:59:59") for day in range(7)]
    now = utc(2024, 1, 18, 6)  # midnight local, Thursday

    business = business_intervals(hours, CHICAGO, now - WEEK, now)

    assert len(business) == 7
    assert business[0] == (utc(2024, 1, 11, 6), utc(2024, 1, 12, 5, 59, 59))
    assert total(business) == 7 * (DAY - SECOND)
    just_before_midnight = utc(2024, 1, 12, 5, 59, 59) + SECOND // 2
    polls: list[Poll] = [(utc(2024, 1, 11, 12), True), (just_before_midnight, False)]
    assert observations_in_business(polls, business, now).times == [utc(2024, 1, 11, 12)]


# --- Daylight saving time: fold=0, the gap takes the offset before the change ------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # 01:00 EST (UTC-5) = 06:00Z; 03:00 EDT (UTC-4) = 07:00Z: one real hour.
        ("01:00", "03:00", (utc(2024, 3, 10, 6), utc(2024, 3, 10, 7))),
        # 02:30 does not exist; read with EST (the offset before): 07:30Z.
        ("01:30", "02:30", (utc(2024, 3, 10, 6, 30), utc(2024, 3, 10, 7, 30))),
        # Start in the gap: 02:30 -> 07:30Z; 04:00 EDT = 08:00Z.
        ("02:30", "04:00", (utc(2024, 3, 10, 7, 30), utc(2024, 3, 10, 8))),
        # 02:30 (gap, EST) = 07:30Z and 03:30 EDT = 07:30Z: the end is not after the start.
        ("02:30", "03:30", None),
    ],
)
def test_shifts_on_the_new_york_spring_forward_day(start: str, end: str, expected: Interval | None) -> None:
    assert shift_to_utc(date(2024, 3, 10), time.fromisoformat(start), time.fromisoformat(end), NEW_YORK) == expected
    business = business_intervals([row(SUNDAY, start, end)], NEW_YORK, utc(2024, 3, 9), utc(2024, 3, 11))
    assert business == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # 01:00 is ambiguous: first occurrence, EDT (UTC-4) = 05:00Z; 03:00 EST = 08:00Z: 3 h.
        ("01:00", "03:00", (utc(2024, 11, 3, 5), utc(2024, 11, 3, 8))),
        # 01:30 EDT = 05:30Z; 02:30 EST (UTC-5) = 07:30Z: 2 h.
        ("01:30", "02:30", (utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 7, 30))),
        # After the change, plain EST: 07:30Z-08:30Z.
        ("02:30", "03:30", (utc(2024, 11, 3, 7, 30), utc(2024, 11, 3, 8, 30))),
        # Both ends ambiguous: the first pass only (05:10Z-05:50Z); the repeat is closed.
        ("01:10", "01:50", (utc(2024, 11, 3, 5, 10), utc(2024, 11, 3, 5, 50))),
    ],
)
def test_shifts_on_the_new_york_fall_back_day(start: str, end: str, expected: Interval) -> None:
    assert shift_to_utc(date(2024, 11, 3), time.fromisoformat(start), time.fromisoformat(end), NEW_YORK) == expected
    business = business_intervals([row(SUNDAY, start, end)], NEW_YORK, utc(2024, 11, 2), utc(2024, 11, 4))
    assert business == [expected]


def test_a_half_hour_zone_far_from_the_us_shifts_by_five_and_a_half_hours() -> None:
    # Monday 2024-01-15 09:00-17:30 in Kolkata (UTC+05:30) = 03:30Z-12:00Z.
    business = business_intervals([row(MONDAY, "09:00", "17:30")], KOLKATA, utc(2024, 1, 14), utc(2024, 1, 17))

    assert business == [(utc(2024, 1, 15, 3, 30), utc(2024, 1, 15, 12))]


def test_lord_howe_moves_its_clock_back_by_half_an_hour_in_april() -> None:
    # Sunday 2024-04-07: at 02:00 (+11) clocks go back to 01:30 (+10:30).
    # 01:00-03:00: 01:00 +11 = Sat 14:00Z; 03:00 +10:30 = 16:30Z (2.5 real hours).
    # 01:45-02:15: 01:45 is ambiguous, first pass +11 = 14:45Z; 02:15 +10:30 = 15:45Z.
    hours = [row(SUNDAY, "01:00", "03:00")]
    assert business_intervals(hours, LORD_HOWE, utc(2024, 4, 5), utc(2024, 4, 9)) == [
        (utc(2024, 4, 6, 14), utc(2024, 4, 6, 16, 30))
    ]
    assert shift_to_utc(date(2024, 4, 7), time(1, 45), time(2, 15), LORD_HOWE) == (
        utc(2024, 4, 6, 14, 45),
        utc(2024, 4, 6, 15, 45),
    )


def test_lord_howe_skips_half_an_hour_in_october() -> None:
    # Sunday 2024-10-06: at 02:00 (+10:30) clocks jump to 02:30 (+11).
    # 01:00-03:00: 01:00 +10:30 = Sat 14:30Z; 03:00 +11 = 16:00Z (1.5 real hours).
    # 02:10-02:40: 02:10 is in the gap, read with +10:30 = 15:40Z; 02:40 +11 = 15:40Z: empty.
    assert shift_to_utc(date(2024, 10, 6), time(1), time(3), LORD_HOWE) == (
        utc(2024, 10, 5, 14, 30),
        utc(2024, 10, 5, 16),
    )
    assert shift_to_utc(date(2024, 10, 6), time(2, 10), time(2, 40), LORD_HOWE) is None


# --- Observations -----------------------------------------------------------------------


def test_a_poll_at_the_opening_instant_counts_and_one_at_the_closing_instant_does_not() -> None:
    business = week_of(EXAMPLE_HOURS, CHICAGO, EXAMPLE_NOW)
    opening, closing = utc(2024, 1, 17, 15), utc(2024, 1, 17, 18)
    polls: list[Poll] = [(opening, True), (closing, False)]

    assert observations_in_business(polls, business, EXAMPLE_NOW) == Observations([opening], [True])
    result = store_uptime(polls, business, EXAMPLE_NOW)
    assert result.last_week == Uptime(up=seconds(180), down=Fraction(0))


def test_a_store_with_only_out_of_hours_polls_gets_zeros() -> None:
    business = week_of(EXAMPLE_HOURS, CHICAGO, EXAMPLE_NOW)
    polls: list[Poll] = [(utc(2024, 1, 17, 14), True), (utc(2024, 1, 17, 18, 10), False)]

    result = store_uptime(polls, business, EXAMPLE_NOW)

    zero = Uptime(up=Fraction(0), down=Fraction(0))
    assert result == StoreUptime(last_hour=zero, last_day=zero, last_week=zero)
    assert status_stretches(polls, business, EXAMPLE_NOW) == []


def test_a_poll_exactly_at_now_counts_when_now_is_in_business_time() -> None:
    # Open 09:00-12:00 local, now = Wednesday 11:00 local (17:00Z).  Polls at 09:30 (up)
    # and at now (down): the midpoint is 10:15, so today 75 min up and 45 min down.
    # The week also holds last Wednesday 11:00-12:00 (60 min), nearest to 09:30: up.
    # The last hour, 10:00-11:00, is 15 min up and 45 min down.
    now = utc(2024, 1, 17, 17)
    polls: list[Poll] = [(utc(2024, 1, 17, 15, 30), True), (now, False)]

    result = store_uptime(polls, week_of(EXAMPLE_HOURS, CHICAGO, now), now)

    assert result.last_hour == Uptime(up=seconds(15), down=seconds(45))
    assert result.last_day == Uptime(up=seconds(75), down=seconds(45))
    assert result.last_week == Uptime(up=seconds(60 + 75), down=seconds(45))


def test_a_poll_exactly_at_now_is_ignored_when_now_is_the_closing_instant() -> None:
    # now = Wednesday 12:00 local, the closing instant: the poll at now is out of hours.
    now = utc(2024, 1, 17, 18)
    polls: list[Poll] = [(utc(2024, 1, 17, 15, 30), True), (now, False)]

    result = store_uptime(polls, week_of(EXAMPLE_HOURS, CHICAGO, now), now)

    assert result.last_day == Uptime(up=seconds(180), down=Fraction(0))


def test_business_for_the_week_reaches_one_microsecond_past_now() -> None:
    now = utc(2024, 1, 17, 17)

    assert week_of(EXAMPLE_HOURS, CHICAGO, now) == business_intervals(EXAMPLE_HOURS, CHICAGO, now - WEEK, now + 1)
    assert week_of(EXAMPLE_HOURS, CHICAGO, now)[-1] == (utc(2024, 1, 17, 15), now + 1)


def test_polls_outside_the_week_are_ignored_but_one_exactly_a_week_ago_counts() -> None:
    now = utc(2024, 1, 17, 12)
    business = week_of([], CHICAGO, now)
    polls: list[Poll] = [(now - WEEK - 1, False), (now - WEEK, True), (now + 1, False)]

    result = store_uptime(polls, business, now)

    assert result.last_week == Uptime(up=Fraction(WEEK, SECOND), down=Fraction(0))


def test_two_polls_at_the_same_instant_keep_the_later_one() -> None:
    now = utc(2024, 1, 17, 12)
    polls: list[Poll] = [(now - HOUR, True), (now - HOUR, False)]

    observations = observations_in_business(polls, week_of([], CHICAGO, now), now)

    assert observations == Observations([now - HOUR], [False])


def test_unsorted_polls_are_refused() -> None:
    now = utc(2024, 1, 17, 12)

    with pytest.raises(ValueError, match="sorted"):
        observations_in_business([(now - HOUR, True), (now - DAY, False)], week_of([], CHICAGO, now), now)


def test_an_hours_row_outside_monday_to_sunday_is_refused() -> None:
    with pytest.raises(ValueError, match="day_of_week"):
        HoursRow(7, time(9), time(17))


# --- Nearest neighbour ------------------------------------------------------------------


def test_status_at_follows_the_nearest_observation_without_a_distance_cap() -> None:
    runs = status_segments(Observations([100, 200, 300], [True, True, False]))

    assert runs.boundaries_half_us == [500]  # the midpoint 250, doubled
    assert status_at(runs, -(10**12)) is True
    assert status_at(runs, 249) is True
    assert status_at(runs, 251) is False
    assert status_at(runs, 10**12) is False


def test_status_at_an_exact_midpoint_takes_the_later_observation() -> None:
    runs = status_segments(Observations([100, 200], [True, False]))

    assert status_at(runs, 150) is False


def test_at_every_exact_midpoint_the_later_observation_rules() -> None:
    runs = status_segments(Observations([100, 200, 300, 401], [True, False, False, True]))

    assert [status_at(runs, t) for t in (149, 150, 151)] == [True, False, False]
    assert [status_at(runs, t) for t in (350, 351)] == [False, True]  # the midpoint 350.5 lies between them


def test_an_outage_starting_at_a_midpoint_rests_on_the_later_observation_only() -> None:
    observations = Observations([100, 200], [True, False])

    assert observations_ruling(observations, 2 * 150, 2 * 160) == (200,)
    assert observations_ruling(observations, 2 * 140, 2 * 150) == (100,)  # ends at the midpoint: not the later one


def test_status_at_is_unknown_without_observations() -> None:
    assert status_at(status_segments(Observations([], [])), 0) is None


def test_one_observation_rules_all_business_time_of_the_week() -> None:
    # Open every day 09:00-12:00 Chicago; one inactive poll on the last day.
    hours = [row(day, "09:00", "12:00") for day in range(7)]

    result = store_uptime([(utc(2024, 1, 17, 16), False)], week_of(hours, CHICAGO, EXAMPLE_NOW), EXAMPLE_NOW)

    assert result.last_week == Uptime(up=Fraction(0), down=seconds(7 * 180))


def test_stretches_are_maximal_and_alternate_within_a_business_interval() -> None:
    now = utc(2024, 1, 17, 12)
    polls: list[Poll] = [(now - 4 * HOUR, True), (now - 3 * HOUR, True), (now - 2 * HOUR, False), (now - HOUR, True)]

    stretches = status_stretches(polls, week_of([], CHICAGO, now), now)

    assert whole_microseconds(stretches) == [
        (now - WEEK, now - 5 * HOUR // 2, True),
        (now - 5 * HOUR // 2, now - 3 * HOUR // 2, False),
        (now - 3 * HOUR // 2, now, True),
    ]


# --- The sum rule -------------------------------------------------------------------------


def test_uptime_plus_downtime_is_the_business_time_of_every_window() -> None:
    hours = [
        row(MONDAY, "08:00", "20:00"),
        row(TUESDAY, "22:00", "02:00"),
        row(WEDNESDAY, "06:30", "06:30"),
        row(WEDNESDAY, "10:00", "11:00"),
        row(FRIDAY, "00:00", "23:59:59"),
        row(SUNDAY, "11:15", "14:45"),
    ]
    now = utc(2024, 1, 18, 13, 7, 11)
    step = 97 * MINUTE + 13 * SECOND + 7
    polls: list[Poll] = [(now - WEEK + k * step, k % 3 != 0) for k in range(WEEK // step + 1)]
    business = week_of(hours, CHICAGO, now)

    result = store_uptime(polls, business, now)

    for window, length in ((result.last_hour, HOUR), (result.last_day, DAY), (result.last_week, WEEK)):
        assert window.up + window.down > 0
        assert window.up + window.down == business_in_window(business, now - length, now)


def test_polls_as_the_databases_two_lists_read_like_a_list_of_pairs() -> None:
    now = utc(2024, 1, 17, 12)
    series = PollSeries([now - DAY, now - HOUR], [True, False])

    assert series == [(now - DAY, True), (now - HOUR, False)]
    assert series[1] == (now - HOUR, False) and series[:1] == [(now - DAY, True)]
    assert store_uptime(series, week_of([], CHICAGO, now), now) == store_uptime(
        list(series), week_of([], CHICAGO, now), now
    )
    with pytest.raises(ValueError, match="sorted"):
        observations_in_business(PollSeries([now, now - DAY], [True, True]), week_of([], CHICAGO, now), now)


def test_a_store_seen_in_one_status_has_one_run_only_if_a_poll_falls_in_business_time() -> None:
    # The shortcut for polls of one status: no observation listed, the same runs.
    now = utc(2024, 1, 17, 18, 30)  # Wednesday 12:30 in Chicago
    business = week_of(EXAMPLE_HOURS, CHICAGO, now)
    inside, outside = utc(2024, 1, 17, 16), utc(2024, 1, 17, 14)  # 10:00 and 08:00 local
    week_start = now - WEEK

    assert status_runs_between([(outside, False)], business, week_start, now) == StatusRuns([], [])
    assert status_runs_between([(outside, False), (inside, False)], business, week_start, now) == StatusRuns(
        [], [False]
    )
    mixed: list[Poll] = [(outside, True), (inside, False)]
    assert status_runs_between(mixed, business, week_start, now) == status_segments(
        observations_in_business(mixed, business, now)
    )
