"""The engine against a deliberately naive reference, on random schedules, zones and polls.

The reference builds each shift on its own with plain ``datetime`` + ``zoneinfo`` (no
union, no clipping), then walks the week in 30-second cells and gives each cell in
business time the status of the nearest observation, found by brute force.

Why 30-second cells give *exact* numbers: shift times are whole local minutes and every
zone used has offsets in whole quarter hours, so business boundaries fall on whole UTC
minutes; ``now`` and the polls are whole minutes too, so window bounds are whole minutes
and midpoints between polls are multiples of 30 s.  Every boundary of the answer is on
the 30-second grid, each cell is wholly in or wholly out, and its centre (15 s in) never
sits on a midpoint.  So ``30 s x (number of cells)`` is the exact measure.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.engine.csv_row import report_row, report_row_of_totals
from reports.engine.intervals import (
    HoursRow,
    Poll,
    PollSeries,
    business_intervals_for_week,
    observations_in_business,
    status_runs_between,
    status_segments,
    status_stretches,
    store_uptime,
    store_window_totals,
    uptime_of_totals,
)

SECOND = 1_000_000
CELL = 30  # seconds
HOUR_S, DAY_S, WEEK_S = 3600, 86_400, 7 * 86_400
CELLS = WEEK_S // CELL

ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "America/Chicago", "UTC"]

# UTC instants of clock changes, so that many weeks contain one.
TRANSITIONS = [
    datetime(2024, 3, 10, 7, tzinfo=UTC),  # New York springs forward
    datetime(2024, 11, 3, 6, tzinfo=UTC),  # New York falls back
    datetime(2024, 3, 31, 1, tzinfo=UTC),  # London springs forward
    datetime(2024, 10, 27, 1, tzinfo=UTC),  # London falls back
    datetime(2024, 4, 6, 15, tzinfo=UTC),  # Lord Howe goes back half an hour
    datetime(2024, 10, 5, 15, 30, tzinfo=UTC),  # Lord Howe goes forward half an hour
    datetime(2024, 1, 17, 12, tzinfo=UTC),  # an ordinary week
]

local_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]) | st.integers(0, 59))
hours_rows = st.builds(HoursRow, st.integers(0, 6), local_times, local_times)


# --- The naive reference (seconds since the epoch) ----------------------------------------


def reference_shifts(hours: list[HoursRow], tz: ZoneInfo, now: int) -> list[tuple[int, int]]:
    """Every shift near the week, each on its own: rule by rule, no union, no clipping."""
    first = datetime.fromtimestamp(now - WEEK_S, tz).date() - timedelta(days=3)
    last = datetime.fromtimestamp(now, tz).date() + timedelta(days=2)
    shifts = []
    day = first
    while day <= last:
        for row in hours:
            if row.day_of_week != day.weekday():
                continue
            start = datetime.combine(day, row.start, tzinfo=tz)
            end_day = day if row.end > row.start else day + timedelta(days=1)
            end = datetime.combine(end_day, row.end, tzinfo=tz)
            if end.timestamp() > start.timestamp():
                shifts.append((int(start.timestamp()), int(end.timestamp())))
        day += timedelta(days=1)
    return shifts


def reference_in_business(hours: list[HoursRow], shifts: list[tuple[int, int]], instant: int) -> bool:
    return not hours or any(start <= instant < end for start, end in shifts)


def reference_cells_in_business(hours: list[HoursRow], shifts: list[tuple[int, int]], now: int) -> bytearray:
    """1 for each 30 s cell of the week whose centre is in some shift."""
    base = now - WEEK_S + CELL // 2
    if not hours:
        return bytearray(b"\x01" * CELLS)
    cells = bytearray(CELLS)
    for start, end in shifts:
        first = max(0, -((base - start) // CELL))  # ceil((start - base) / CELL)
        upto = min(CELLS, -((base - end) // CELL))
        for k in range(first, upto):
            cells[k] = 1
    return cells


def reference_uptime(
    hours: list[HoursRow], tz: ZoneInfo, polls: list[tuple[int, bool]], now: int
) -> dict[str, tuple[Fraction, Fraction]]:
    shifts = reference_shifts(hours, tz, now)
    observations = [
        (instant, active)
        for instant, active in polls
        if now - WEEK_S <= instant <= now and reference_in_business(hours, shifts, instant)
    ]
    in_business = reference_cells_in_business(hours, shifts, now)
    counts = {name: [0, 0] for name in ("hour", "day", "week")}
    if observations:
        for k in range(CELLS):
            if not in_business[k]:
                continue
            centre = now - WEEK_S + CELL // 2 + k * CELL
            _, active = min((abs(instant - centre), active) for instant, active in observations)
            slot = 0 if active else 1
            counts["week"][slot] += 1
            if centre >= now - DAY_S:
                counts["day"][slot] += 1
            if centre >= now - HOUR_S:
                counts["hour"][slot] += 1
    return {name: (Fraction(CELL * up), Fraction(CELL * down)) for name, (up, down) in counts.items()}


# --- The property -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    hours=st.lists(hours_rows, max_size=4),
    zone=st.sampled_from(ZONES),
    transition=st.sampled_from(TRANSITIONS),
    offset_minutes=st.integers(-2 * 24 * 60, 9 * 24 * 60),
    random_polls=st.lists(st.tuples(st.integers(-WEEK_S // 60 - 120, 60), st.booleans()), max_size=10),
    boundary_polls=st.lists(st.tuples(st.integers(0, 10**6), st.booleans()), max_size=4),
)
def test_engine_matches_the_naive_reference_exactly(
    hours: list[HoursRow],
    zone: str,
    transition: datetime,
    offset_minutes: int,
    random_polls: list[tuple[int, bool]],
    boundary_polls: list[tuple[int, bool]],
) -> None:
    tz = ZoneInfo(zone)
    now = int(transition.timestamp()) + 60 * offset_minutes
    # Some polls sit exactly on a shift edge, on now, or on a window start.
    edges = [now, now - WEEK_S, now - DAY_S, now - HOUR_S]
    edges += [edge for shift in reference_shifts(hours, tz, now) for edge in shift]
    polls_by_time = {now + 60 * minutes: active for minutes, active in random_polls}
    polls_by_time.update({edges[pick % len(edges)]: active for pick, active in boundary_polls})
    polls = sorted(polls_by_time.items())
    engine_polls: list[Poll] = [(instant * SECOND, active) for instant, active in polls]
    now_us = now * SECOND

    business = business_intervals_for_week(hours, tz, now_us)
    result = store_uptime(engine_polls, business, now_us)
    expected = reference_uptime(hours, tz, polls, now)

    assert (result.last_hour.up, result.last_hour.down) == expected["hour"]
    assert (result.last_day.up, result.last_day.down) == expected["day"]
    assert (result.last_week.up, result.last_week.down) == expected["week"]

    shifts = reference_shifts(hours, tz, now)
    observed = observations_in_business(engine_polls, business, now_us).times
    assert observed == [
        instant * SECOND
        for instant, _ in polls
        if now - WEEK_S <= instant <= now and reference_in_business(hours, shifts, instant)
    ]
    week_business = sum(
        min(end, now_us) - max(start, now_us - WEEK_S * SECOND) for start, end in business if start < now_us
    )
    assert week_business == CELL * SECOND * sum(reference_cells_in_business(hours, shifts, now))

    # The report's own path: the same runs, the same numbers, the same CSV text, from the database's shape too.
    week_start = now_us - WEEK_S * SECOND
    runs = status_segments(observations_in_business(engine_polls, business, now_us))
    assert status_runs_between(engine_polls, business, week_start, now_us) == runs
    series = PollSeries([instant for instant, _ in engine_polls], [active for _, active in engine_polls])
    assert series == engine_polls
    assert store_uptime(series, business, now_us) == result
    totals = store_window_totals(series, business, now_us)
    assert uptime_of_totals(totals) == result
    assert report_row_of_totals("s", totals) == report_row("s", result)


@settings(max_examples=100, deadline=None)
@given(
    hours=st.lists(hours_rows, max_size=4),
    zone=st.sampled_from(ZONES),
    transition=st.sampled_from(TRANSITIONS),
    offset_minutes=st.integers(-2 * 24 * 60, 9 * 24 * 60),
    random_polls=st.lists(st.tuples(st.integers(-WEEK_S // 60, 0), st.booleans()), max_size=20),
)
def test_stretches_add_up_to_the_week_and_alternate(
    hours: list[HoursRow],
    zone: str,
    transition: datetime,
    offset_minutes: int,
    random_polls: list[tuple[int, bool]],
) -> None:
    tz = ZoneInfo(zone)
    now = (int(transition.timestamp()) + 60 * offset_minutes) * SECOND
    polls: list[Poll] = sorted({now + 60 * SECOND * minutes: active for minutes, active in random_polls}.items())
    business = business_intervals_for_week(hours, tz, now)

    stretches = status_stretches(polls, business, now)
    week = store_uptime(polls, business, now).last_week

    assert sum((s.seconds for s in stretches if s.active), Fraction(0)) == week.up
    assert sum((s.seconds for s in stretches if not s.active), Fraction(0)) == week.down
    for before, after in zip(stretches, stretches[1:], strict=False):
        assert before.end <= after.start
        assert before.end < after.start or before.active != after.active
