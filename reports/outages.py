"""One store's week: the engine's timeline of it, and its totals per report window.

Every number here comes from :func:`reports.engine.intervals.store_timeline`, the same
stretches :func:`reports.engine.intervals.store_uptime` measures for the CSV; this
module only fetches the inputs. How the week is shown (outage records, the
day-by-day chart) is :mod:`reports.presentation.store_week`. Two sources of inputs:

* :func:`store_week_at` reads the current database at ``as_of`` (default: the
  latest poll, as SEMANTICS says) -- the outages API;
* :func:`store_week_in_report` reads a finished report's planned snapshot
  (:mod:`reports.snapshot`) -- the admin's store page, so it shows the week
  the report computed, not today's data.

Durations stay exact (``Fraction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from reports.engine.intervals import (
    Interval,
    StoreTimeline,
    business_intervals_for_week,
    outage_seconds_in_window,
    store_timeline,
)
from reports.engine.intervals import Poll as PollPoint
from reports.engine.units import WEEK, WINDOWS, Instant, Window, instant_datetime, instant_delta, to_instant
from reports.models import Report
from reports.selectors import StoreInputs, store_inputs
from reports.services import consistent_read, report_now, zone
from reports.snapshot import report_store_inputs
from stores.models import Store


class UnknownStore(Exception):
    """No store has this id."""


@dataclass(frozen=True, slots=True)
class StoreWeek:
    """One store's report week: its inputs, what the engine derived, and the zone to show it in."""

    store_id: str
    zone: ZoneInfo
    zone_given: bool
    now: datetime
    business: list[Interval]
    polls: Sequence[PollPoint]
    timeline: StoreTimeline

    @property
    def now_us(self) -> Instant:
        return to_instant(self.now)

    @property
    def window_start(self) -> datetime:
        """The start of the week window ``[now - 168 h, now)``."""
        return self.now - instant_delta(WEEK)

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


def store_week_at(*, stores: QuerySet[Store], store_id: str, as_of: datetime | None) -> StoreWeek:
    """The store's week before ``as_of`` (default: the latest poll) from the current database.

    ``stores`` are those the caller may see (:func:`stores.selectors.stores_visible_to`):
    a store outside them is unknown, exactly like one that does not exist.

    Raises :class:`UnknownStore`, or :class:`reports.services.NoPollsError` when
    ``as_of`` is not given and there is no poll at all.
    """
    if not stores.filter(id=store_id).exists():
        raise UnknownStore(store_id)
    now = report_now(as_of)
    with consistent_read():
        [inputs] = store_inputs(now, [store_id])
    return store_week(inputs, now)


def store_week_in_report(*, report: Report, store_id: str) -> StoreWeek | None:
    """The store's week as ``report`` computed it; ``None`` when the store has no row in it."""
    assert report.as_of is not None
    with consistent_read():
        inputs = next(report_store_inputs(report, only=store_id), None)
    return None if inputs is None else store_week(inputs, report.as_of)


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """A window's uptime, downtime and outages; the same numbers as the report's CSV row, unrounded."""

    window: Window
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
    for window in WINDOWS:
        uptime = timeline.uptime.of(window)
        inside = outage_seconds_in_window(timeline.outages, now_us - window.length, now_us)
        totals.append(WindowTotals(window, uptime.up, uptime.down, len(inside), max(inside, default=Fraction(0))))
    return totals
