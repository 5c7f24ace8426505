"""One store's week as people read it: numbered outages with local times, and the day-by-day chart rows.

The numbers are :mod:`reports.outages`'s (the engine's, unrounded); this module
turns instants into datetimes and the week into chart geometry for
:func:`reports.presentation.charts.week_timeline_svg`. Instants on display
are microseconds; a midpoint between two polls can fall on a half
microsecond, shown floored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from reports.engine.intervals import wall_to_utc
from reports.engine.units import WEEK, Instant, instant_datetime
from reports.outages import StoreWeek
from reports.presentation.charts import DayRow, Span, SpanKind, Tick
from reports.presentation.durations import duration_text


@dataclass(frozen=True, slots=True)
class OutageRecord:
    """One outage for display: bounds in UTC and local time, exact duration, the polls behind it."""

    number: int
    start_utc: datetime
    end_utc: datetime
    start_local: datetime
    end_local: datetime
    seconds: Fraction
    poll_times_utc: tuple[datetime, ...]
    ongoing: bool
    """It lasts until the report's ``now``: the store was still down then."""
    cut_at_window_start: bool
    """It starts at the beginning of the week window; it may have begun earlier."""

    @property
    def duration(self) -> str:
        return duration_text(self.seconds)

    @property
    def seconds_text(self) -> str:
        """The exact duration in seconds as a decimal (a half microsecond at most: 7 places)."""
        return str(Decimal(self.seconds.numerator) / Decimal(self.seconds.denominator))


def outage_records(week: StoreWeek) -> list[OutageRecord]:
    """The week's outages in time order, numbered from 1."""
    window_start, now = 2 * (week.now_us - WEEK), 2 * week.now_us
    return [
        OutageRecord(
            number=number,
            start_utc=instant_datetime(outage.start),
            end_utc=instant_datetime(outage.end),
            start_local=week.local(outage.start),
            end_local=week.local(outage.end),
            seconds=outage.seconds,
            poll_times_utc=tuple(instant_datetime(instant) for instant in outage.polls),
            ongoing=outage.end_half_us == now,
            cut_at_window_start=outage.start_half_us == window_start,
        )
        for number, outage in enumerate(week.timeline.outages, start=1)
    ]


def _local_midnight(day: date, store_zone: ZoneInfo) -> Instant:
    return wall_to_utc(datetime.combine(day, time_of_day()), store_zone)


def _spans(intervals: list[tuple[Fraction, Fraction]], row: tuple[Instant, Instant], kind: SpanKind) -> list[Span]:
    row_start, row_end = Fraction(row[0]), Fraction(row[1])
    length = row_end - row_start
    spans = []
    for start, end in intervals:
        lo, hi = max(start, row_start), min(end, row_end)
        if lo < hi:
            spans.append(Span(float((lo - row_start) / length), float((hi - row_start) / length), kind))
    return spans


def local_days(week: StoreWeek) -> list[tuple[date, Instant, Instant]]:
    """The local dates the week window touches, each with its UTC midnight-to-midnight span.

    Eight dates unless ``now`` is exactly local midnight (then seven): the window is 168
    hours ending at ``now``, so its first and last dates are only partly inside it.
    """
    window_start, now_us = week.now_us - WEEK, week.now_us
    first, last = week.local(window_start).date(), week.local(now_us - 1).date()
    days = []
    day = first
    while day <= last:
        days.append((day, _local_midnight(day, week.zone), _local_midnight(day + timedelta(days=1), week.zone)))
        day += timedelta(days=1)
    return days


def timeline_days(week: StoreWeek) -> list[DayRow]:
    """One chart row per local date: outside-the-window, business hours, up/down stretches, poll ticks."""
    window_start, now_us = week.now_us - WEEK, week.now_us
    observed = set(week.timeline.observations.times)
    business = [(Fraction(max(s, window_start)), Fraction(min(e, now_us))) for s, e in week.business]
    up = [(stretch.start, stretch.end) for stretch in week.timeline.stretches if stretch.active]
    down = [(stretch.start, stretch.end) for stretch in week.timeline.stretches if not stretch.active]
    rows = []
    for day, row_start, row_end in local_days(week):
        row = (row_start, row_end)
        outside = [(Fraction(row_start), Fraction(window_start)), (Fraction(now_us), Fraction(row_end))]
        ticks = [
            Tick(
                (instant - row_start) / (row_end - row_start),
                ("active" if active else "inactive") if instant in observed else "ignored",
                f"{week.local(instant):%H:%M:%S} {'active' if active else 'inactive'}"
                + ("" if instant in observed else " (outside business hours, not used)"),
            )
            for instant, active in week.polls
            if row_start <= instant < row_end and window_start <= instant <= now_us
        ]
        open_spans = _spans(business, row, "open")
        up_spans, down_spans = _spans(up, row, "up"), _spans(down, row, "down")
        rows.append(
            DayRow(
                label=f"{day:%a %d %b}",
                spans=[*_spans(outside, row, "outside"), *open_spans, *up_spans, *down_spans],
                ticks=ticks,
                open_seconds=_seconds(business, row),
                up_seconds=_seconds(up, row),
                down_seconds=_seconds(down, row),
            )
        )
    return rows


def _seconds(intervals: list[tuple[Fraction, Fraction]], row: tuple[Instant, Instant]) -> Fraction:
    """Seconds of ``intervals`` inside the row's span."""
    row_start, row_end = Fraction(row[0]), Fraction(row[1])
    inside = (min(end, row_end) - max(start, row_start) for start, end in intervals)
    return sum((overlap for overlap in inside if overlap > 0), Fraction(0)) / 1_000_000
