"""One store's week, readable: its outages, its window totals and its day-by-day timeline.

Every number here comes from :func:`reports.engine.intervals.store_timeline`, the same
stretches :func:`reports.engine.intervals.store_uptime` measures for the CSV; this
module only fetches inputs and turns instants into datetimes and chart
geometry. Two sources of inputs:

* :func:`store_week_at` reads the current database at ``as_of`` (default: the
  latest poll, as SEMANTICS says) -- the outages API;
* :func:`store_week_in_report` reads a finished report's planned snapshot
  (:mod:`reports.snapshot`) -- the admin's store page, so it shows the week
  the report computed, not today's data.

Instants on display are microseconds; a midpoint between two polls can fall
on a half microsecond, shown floored. Durations stay exact (``Fraction``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

from reports.engine.intervals import (
    DAY,
    HOUR,
    WEEK,
    Instant,
    Interval,
    StoreTimeline,
    business_intervals_for_week,
    outage_seconds_in_window,
    store_timeline,
    wall_to_utc,
)
from reports.engine.intervals import Poll as PollPoint
from reports.models import Report
from reports.presentation.charts import DayRow, Span, SpanKind, Tick, duration_text
from reports.selectors import StoreInputs, store_inputs, to_instant
from reports.services import read_snapshot, report_now, zone
from reports.snapshot import report_store_inputs
from stores.models import Store

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WindowName = Literal["last_hour", "last_day", "last_week"]
WINDOWS: tuple[tuple[WindowName, Instant], ...] = (("last_hour", HOUR), ("last_day", DAY), ("last_week", WEEK))


class UnknownStore(Exception):
    """No store has this id."""


def instant_datetime(instant: Fraction | int) -> datetime:
    """An instant (microseconds, maybe a half) as an aware UTC datetime, floored to the microsecond."""
    return _EPOCH + timedelta(microseconds=int(instant // 1))


@dataclass(frozen=True, slots=True)
class StoreWeek:
    """One store's report week: its inputs, what the engine derived, and the zone to show it in."""

    store_id: str
    zone: ZoneInfo
    zone_given: bool
    now: datetime
    business: list[Interval]
    polls: list[PollPoint]
    timeline: StoreTimeline

    @property
    def now_us(self) -> Instant:
        return to_instant(self.now)

    @property
    def observed(self) -> bool:
        """Whether any poll fell in business hours; without one every number is zero (SEMANTICS)."""
        return bool(self.timeline.observations.times)

    def local(self, instant: Fraction | int) -> datetime:
        return instant_datetime(instant).astimezone(self.zone)


def store_week(inputs: StoreInputs, now: datetime) -> StoreWeek:
    """Run the engine on one store's inputs, as :func:`reports.services.report_rows` does."""
    now_us = to_instant(now)
    store_zone = zone(inputs.timezone)
    business = business_intervals_for_week(inputs.hours, store_zone, now_us)
    return StoreWeek(
        store_id=inputs.store_id,
        zone=store_zone,
        zone_given=inputs.timezone is not None,
        now=now,
        business=business,
        polls=inputs.polls,
        timeline=store_timeline(inputs.polls, business, now_us),
    )


def store_week_at(*, store_id: str, as_of: datetime | None) -> StoreWeek:
    """The store's week before ``as_of`` (default: the latest poll) from the current database.

    Raises :class:`UnknownStore`, or :class:`reports.services.NoPollsError` when
    ``as_of`` is not given and there is no poll at all.
    """
    if not Store.objects.filter(id=store_id).exists():
        raise UnknownStore(store_id)
    now = report_now(as_of)
    with read_snapshot():
        [inputs] = store_inputs(now, [store_id])
    return store_week(inputs, now)


def store_week_in_report(*, report: Report, store_id: str) -> StoreWeek | None:
    """The store's week as ``report`` computed it; ``None`` when the store has no row in it."""
    assert report.as_of is not None
    with read_snapshot():
        inputs = next(report_store_inputs(report, only=store_id), None)
    return None if inputs is None else store_week(inputs, report.as_of)


# --- outages and totals -----------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """A window's uptime, downtime and outages; the same numbers as the report's CSV row, unrounded."""

    window: WindowName
    uptime_seconds: Fraction
    downtime_seconds: Fraction
    outages: int
    longest_outage_seconds: Fraction

    @property
    def uptime_percent(self) -> Fraction | None:
        """Uptime over observed business time; ``None`` when the window has none."""
        measured = self.uptime_seconds + self.downtime_seconds
        return None if not measured else 100 * self.uptime_seconds / measured


def window_totals(timeline: StoreTimeline, now_us: Instant) -> list[WindowTotals]:
    """Uptime, downtime, outage count and longest outage (cut to the window) for each report window."""
    totals = []
    for name, length in WINDOWS:
        uptime = getattr(timeline.uptime, name)
        inside = outage_seconds_in_window(timeline.outages, now_us - length, now_us)
        totals.append(WindowTotals(name, uptime.up, uptime.down, len(inside), max(inside, default=Fraction(0))))
    return totals


# --- the timeline chart's geometry ------------------------------------------------------


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
