"""Period reports and coverage: one period ``P = [start, end)`` instead of the three fixed windows.

Plain data in, plain data out, as :mod:`reports.engine.intervals` (whose rules 1-6 this
module builds on and does not repeat): instants are integer microseconds, intervals
half-open ``(start, end)`` tuples.

The rules, in plain words
=========================

7. **Period observations.**  A period report measures ``P = [start, end)`` (``start <
   end``, at most 93 days).  Business time ``B`` is built exactly as for the fixed
   report, over the local dates touching ``P``.  The observations are the store's
   polls taken in ``[start, end]`` (both ends included) that fall inside ``B``; polls
   outside the period are never used, even when they would be nearer.  So the fixed
   report's week columns are *exactly* the period report of ``[now - 168 h, now)``.
   Every instant of ``B ∩ P`` takes the status of the nearest observation (rule 5).
8. **Which stores.**  A store gets a row when it has at least one poll (any status, in
   or out of business hours) in ``[start, end]``.
9. **Coverage, R = 1 h.**  An instant of business time is *unobserved* when every
   observation is more than ``R`` away (``|t - o| > R`` for all ``o``); with no
   observation, all of the business time is.  ``no_data`` is the length of the
   unobserved business time.  It is shown beside uptime and downtime and never
   subtracted from them: with an observation, ``up + down = |B ∩ P|`` still holds.
   The fixed report's ``no_data_last_*`` use the week's observations (rule 4).
10. **Outages.**  An outage is a maximal stretch of ``inactive`` status inside one
    maximal interval of ``B ∩ P``.  Shifts that touch or overlap form one interval
    (09:00-12:00 and 12:00-15:00 do not end an outage at noon); closing time ends an
    outage (a store down over night has two); the period's bounds cut it.  The
    outages add up to the downtime.
11. **Percentages.**  ``uptime_percent = 100 * up / (up + down)``, empty when ``up +
    down = 0``; ``coverage_percent = 100 * (business - no_data) / business``, empty
    when ``business = 0``.  A percentage of nothing is empty, not 0.
12. **SLA.**  With a target ``T``: ``sla_met`` is ``yes`` when the exact, unrounded
    uptime percentage is ``>= T``, ``no`` when below, empty when ``uptime_percent``
    is; ``error_budget_minutes_left = (1 - T/100) * (up + down) - down`` in minutes,
    negative once the budget is spent, rounded half *away from zero* (every other
    number is rounded half up); empty when ``uptime_percent`` is.

All arithmetic is exact (integers and fractions); :mod:`reports.engine.period_csv` rounds
once, when a value is written.

Worked examples
===============

*The 10:14/11:15 store over one day.*  Open 09:00-12:00 (UTC zone), polls at 10:14
(active) and 11:15 (inactive), period the whole day::

    time      09:00        09:14     10:14  10:44:30  11:15              12:00
    status    [========== up ==========)[------------ down -------------)
    observed        [<------ 10:14 +- 1 h ------>]
                                          [<------- 11:15 +- 1 h ---------->]
    no_data   [ 14 )  (09:00-09:14: the nearest poll is more than an hour away)

business 3 h, up 104.5 min, down 75.5 min, no_data 14 min (0.23 h), uptime 58.06 %,
coverage 100 x 166/180 = 92.22 %, one outage of 75.5 min (mean 75.5 min).  With
``T = 99.5``: ``sla_met = no``; budget ``0.005 x 180 - 75.5 = -74.6`` min.

*Closing time and period bounds.*  Open 09:00-17:00 every day (UTC), polls on day 1 at
16:00 (inactive), on day 2 at 10:00 (inactive) and 12:00 (active).  The first poll rules
everything before it, so day 1 is down 09:00-17:00; day 2 is down from opening to the
midpoint 11:00, up after.  Two outages, 8 h and 2 h: closing time ended the first, and
the closed night is neither up nor down.  A period starting at day 1 12:00 cuts the
first to 12:00-17:00 (5 h); the outages (5 h + 2 h) add up to the downtime.

*Exactly at the target.*  up 199 h, down 1 h: 99.5 % exactly, so ``T = 99.5`` is met
and the budget left is ``0.005 x 200 h - 1 h = 0`` min.

*Half away from zero.*  A budget of ``-0.125`` min is written ``-0.13`` (half up would
give ``-0.12``); ``+0.125`` is ``0.13``.

Choices where the contract is silent
====================================

* ``longest_outage_minutes`` and ``mean_outage_minutes`` are in minutes as their names
  say; the mean is the downtime over the outage count, exact, then rounded.
* A poll exactly at ``end`` is an observation when ``end`` is business time, although
  ``end`` itself is never measured (the same as a poll at the fixed report's ``now``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

from reports.engine.intervals import (
    HoursRow,
    Interval,
    Observations,
    Poll,
    RawStretch,
    business_intervals,
    observations_between,
    status_segments,
    stretches_in_business,
)
from reports.engine.units import (
    DAY,
    HALF_MICROSECONDS_PER_SECOND,
    HOUR,
    MICROSECONDS_PER_SECOND,
    WEEK,
    WINDOWS,
    Instant,
    Window,
)

COVERAGE_RADIUS: Instant = HOUR
"""R: an instant of business time further than this from every observation is unobserved."""

LONGEST_PERIOD: Instant = 93 * DAY
"""A period report measures at most 93 days (a quarter)."""



@dataclass(frozen=True, slots=True)
class PeriodNumbers:
    """One store's exact numbers for a period, in seconds; ``outages`` holds each outage's length."""

    business: Fraction
    up: Fraction
    down: Fraction
    no_data: Fraction
    outages: tuple[Fraction, ...]

    @property
    def uptime_percent(self) -> Fraction | None:
        """Rule 11: ``100 * up / (up + down)``, ``None`` when nothing was measured."""
        measured = self.up + self.down
        return None if measured == 0 else 100 * self.up / measured

    @property
    def coverage_percent(self) -> Fraction | None:
        """Rule 11: the share of business time that is observed, ``None`` without business time."""
        return None if self.business == 0 else 100 * (self.business - self.no_data) / self.business

    @property
    def longest_outage(self) -> Fraction:
        return max(self.outages, default=Fraction(0))

    @property
    def mean_outage(self) -> Fraction | None:
        return None if not self.outages else sum(self.outages, Fraction(0)) / len(self.outages)


@dataclass(frozen=True, slots=True)
class SlaNumbers:
    """Rule 12 for one store: whether the target was met and the error budget left (seconds, may be negative)."""

    met: bool
    budget_left: Fraction


def sla_numbers(numbers: PeriodNumbers, target_percent: Fraction) -> SlaNumbers | None:
    """Rule 12; ``None`` when the uptime percentage is empty (nothing measured)."""
    percent = numbers.uptime_percent
    if percent is None:
        return None
    budget = (1 - target_percent / 100) * (numbers.up + numbers.down) - numbers.down
    return SlaNumbers(met=percent >= target_percent, budget_left=budget)


def period_is_valid(start: Instant, end: Instant) -> bool:
    """``start < end`` and at most :data:`LONGEST_PERIOD` long."""
    return start < end and end - start <= LONGEST_PERIOD


# --- Rules 7-8: business time and observations of a period ------------------------------


def business_intervals_for_period(
    hours: Sequence[HoursRow], tz: ZoneInfo, start: Instant, end: Instant
) -> list[Interval]:
    """Business time :func:`period_numbers` needs: ``business_intervals(hours, tz, start, end + 1)``.

    The extra microsecond lets a poll exactly at ``end`` count when ``end`` is business
    time (observations include ``end``); it is never measured.  Memoised like the week's.
    """
    return list(_period_business_memo(frozenset(hours), tz, start, end + 1))


@lru_cache(maxsize=1 << 13)
def _period_business_memo(
    hours: frozenset[HoursRow], tz: ZoneInfo, start: Instant, end: Instant
) -> tuple[Interval, ...]:
    return tuple(business_intervals(tuple(hours), tz, start, end))


# --- Rule 9: coverage --------------------------------------------------------------------


def observed_reach(times: Sequence[Instant], radius: Instant = COVERAGE_RADIUS) -> list[Interval]:
    """The instants within ``radius`` of some observation, as sorted disjoint intervals.

    ``times`` strictly increasing.  ``[o - R, o + R]`` is closed and its complement open,
    but a single instant has no length, so half-open intervals measure the same.
    """
    reach: list[Interval] = []
    for instant in times:
        low, high = instant - radius, instant + radius
        if reach and low <= reach[-1][1]:
            reach[-1] = (reach[-1][0], high)
        else:
            reach.append((low, high))
    return reach


def clipped_length(intervals: Sequence[Interval], start: Instant, end: Instant) -> Instant:
    """The total length of ``intervals`` (sorted, disjoint) inside ``[start, end)``."""
    return sum(max(0, min(high, end) - max(low, start)) for low, high in intervals)


def intersection_length(first: Sequence[Interval], second: Sequence[Interval], start: Instant, end: Instant) -> Instant:
    """The length of ``first ∩ second ∩ [start, end)``; both sorted and disjoint; one linear merge."""
    total, i, j = 0, 0, 0
    while i < len(first) and j < len(second):
        low = max(first[i][0], second[j][0], start)
        high = min(first[i][1], second[j][1], end)
        if high > low:
            total += high - low
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return total


def unobserved_time(business: Sequence[Interval], times: Sequence[Instant], start: Instant, end: Instant) -> Instant:
    """Rule 9: microseconds of business time in ``[start, end)`` further than R from every observation."""
    business_length = clipped_length(business, start, end)
    return business_length - intersection_length(business, observed_reach(times), start, end)


# --- Rule 10: outages ----------------------------------------------------------------------


def outage_lengths(stretches: Sequence[RawStretch]) -> tuple[Fraction, ...]:
    """Rule 10: each outage's length in seconds, from the period's stretches.

    :func:`~reports.engine.intervals.stretches_in_business` cuts each maximal business
    interval (already clipped to the period) into alternating up and down stretches, so
    every down stretch is one outage: closing time and the period's bounds end it.
    """
    return tuple(Fraction(hi - lo, HALF_MICROSECONDS_PER_SECOND) for lo, hi, active in stretches if not active)


# --- One store ---------------------------------------------------------------------------


def period_numbers(polls: Sequence[Poll], business: Sequence[Interval], start: Instant, end: Instant) -> PeriodNumbers:
    """Rules 7-11 for one store over ``[start, end)``.

    ``business`` covers at least ``[start, end + 1)``: pass
    :func:`business_intervals_for_period`.  ``polls`` sorted by time; those outside
    ``[start, end]`` are ignored.
    """
    observations = observations_between(polls, business, start, end)
    stretches = stretches_in_business(business, status_segments(observations), start, end)
    up = sum(hi - lo for lo, hi, active in stretches if active)
    down = sum(hi - lo for lo, hi, active in stretches if not active)
    return PeriodNumbers(
        business=Fraction(clipped_length(business, start, end), MICROSECONDS_PER_SECOND),
        up=Fraction(up, HALF_MICROSECONDS_PER_SECOND),
        down=Fraction(down, HALF_MICROSECONDS_PER_SECOND),
        no_data=Fraction(unobserved_time(business, observations.times, start, end), MICROSECONDS_PER_SECOND),
        outages=outage_lengths(stretches),
    )


def no_data_by_window(observations: Observations, business: Sequence[Interval], now: Instant) -> dict[Window, Fraction]:
    """Rule 9 for the fixed report: unobserved business time of each window, seconds, from the week's observations."""
    assert all(window.length <= WEEK for window in WINDOWS)
    return {
        window: Fraction(
            unobserved_time(business, observations.times, now - window.length, now), MICROSECONDS_PER_SECOND
        )
        for window in WINDOWS
    }


def period_outage_spans(
    polls: Sequence[Poll], business: Sequence[Interval], start: Instant, end: Instant
) -> list[tuple[Fraction, Fraction]]:
    """Rule 10 as spans: each outage's ``(start, end)`` in microseconds (maybe a half), in time order.

    The same stretches :func:`period_numbers` measures, so the spans' lengths are its ``outages``.
    """
    observations = observations_between(polls, business, start, end)
    stretches = stretches_in_business(business, status_segments(observations), start, end)
    return [(Fraction(lo, 2), Fraction(hi, 2)) for lo, hi, active in stretches if not active]
