"""The period engine against a brute-force reference, on random schedules, zones, periods and polls.

As in ``test_intervals_property``: the reference builds each shift on its own with
``datetime`` + ``zoneinfo``, then walks the period in 30-second cells, giving each cell in
business time the status of the nearest observation (found by brute force), and calling
it unobserved when that observation is more than an hour from the cell's centre.  Shift
times, zone offsets, the period's bounds and the polls all fall on whole minutes, so every
boundary of the answer (midpoints between polls, ``o ± 1 h``) is on the 30-second grid and
``30 s x cells`` is exact.  Outages are runs of down cells with no gap in business time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.engine.intervals import HoursRow, Poll
from reports.engine.period import business_intervals_for_period, period_numbers

SECOND = 1_000_000
CELL = 30
ZONES = ["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
BASES = [
    datetime(2024, 3, 9, 12, tzinfo=UTC),  # New York springs forward on the 10th
    datetime(2024, 10, 26, 12, tzinfo=UTC),  # London falls back on the 27th
    datetime(2024, 4, 6, 0, tzinfo=UTC),  # Lord Howe goes back half an hour
    datetime(2024, 1, 17, 12, tzinfo=UTC),
]

local_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]) | st.integers(0, 59))
hours_rows = st.builds(HoursRow, st.integers(0, 6), local_times, local_times)


def reference_shifts(hours: list[HoursRow], tz: ZoneInfo, start: int, end: int) -> list[tuple[int, int]]:
    shifts = []
    day = datetime.fromtimestamp(start, tz).date() - timedelta(days=3)
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=2)
    while day <= last:
        for row in hours:
            if row.day_of_week == day.weekday():
                opens = datetime.combine(day, row.start, tzinfo=tz)
                closes = datetime.combine(day if row.end > row.start else day + timedelta(days=1), row.end, tzinfo=tz)
                if closes.timestamp() > opens.timestamp():
                    shifts.append((int(opens.timestamp()), int(closes.timestamp())))
        day += timedelta(days=1)
    return shifts


def reference(hours: list[HoursRow], tz: ZoneInfo, polls: list[tuple[int, bool]], start: int, end: int) -> dict:
    """Seconds of business, up, down, no data, and the outages' lengths, cell by cell."""
    shifts = reference_shifts(hours, tz, start, end)

    def open_at(instant: float) -> bool:
        return not hours or any(low <= instant < high for low, high in shifts)

    seen: dict[int, bool] = {}
    for instant, active in polls:  # the later of two at one instant wins
        if start <= instant <= end and open_at(instant):
            seen[instant] = active
    observations = sorted(seen.items())
    business = up = down = no_data = 0
    outages: list[int] = []
    in_outage = False
    for cell in range((end - start) // CELL):
        centre = start + cell * CELL + CELL / 2
        if not open_at(centre):
            in_outage = False
            continue
        business += CELL
        if not observations:
            no_data += CELL
            continue
        nearest = min(observations, key=lambda seen_at: (abs(seen_at[0] - centre), -seen_at[0]))
        if abs(nearest[0] - centre) > 3600:
            no_data += CELL
        if nearest[1]:
            up += CELL
            in_outage = False
        else:
            down += CELL
            if in_outage:
                outages[-1] += CELL
            else:
                outages.append(CELL)
                in_outage = True
    return {"business": business, "up": up, "down": down, "no_data": no_data, "outages": outages}


@settings(max_examples=60, deadline=None)
@given(
    hours=st.lists(hours_rows, max_size=5),
    zone=st.sampled_from(ZONES),
    base=st.sampled_from(BASES),
    start_minutes=st.integers(0, 24 * 60),
    length_minutes=st.integers(1, 3 * 24 * 60),
    polls=st.lists(st.tuples(st.integers(-6 * 60, 4 * 24 * 60), st.booleans()), max_size=25),
)
def test_period_numbers_match_the_brute_force_reference(
    hours: list[HoursRow],
    zone: str,
    base: datetime,
    start_minutes: int,
    length_minutes: int,
    polls: list[tuple[int, bool]],
) -> None:
    tz = ZoneInfo(zone)
    origin = int(base.timestamp())
    start = origin + 60 * start_minutes
    end = start + 60 * length_minutes
    poll_seconds = sorted(((origin + 60 * minute, active) for minute, active in polls), key=lambda item: item[0])
    engine_polls: list[Poll] = [(instant * SECOND, active) for instant, active in poll_seconds]

    business = business_intervals_for_period(hours, tz, start * SECOND, end * SECOND)
    got = period_numbers(engine_polls, business, start * SECOND, end * SECOND)
    expected = reference(hours, tz, poll_seconds, start, end)

    assert got.business == expected["business"]
    assert (got.up, got.down) == (expected["up"], expected["down"])
    assert got.no_data == expected["no_data"]
    assert list(got.outages) == expected["outages"]
    assert sum(got.outages) == got.down
