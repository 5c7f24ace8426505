"""Interval arithmetic for the uptime report: the only place where report numbers are computed.

Plain data in, plain data out: no Django, no I/O. Instants are integers (microseconds
since the Unix epoch, UTC), intervals are half-open ``(start, end)`` tuples of instants.

The rules, in plain words
=========================

1. **Business time.**  A store with no hours rows is open all the time.  Otherwise each
   hours row opens the store on its weekday (0 = Monday) from ``start`` to ``end`` in the
   store's local wall clock.  If ``end`` is later than ``start`` the shift ends that same
   day; if it is earlier it ends the next day (a night shift belongs to the day it
   starts on); if the two are equal the shift lasts a full day, up to the same wall time
   next day.  ``23:59:59`` means exactly that, one second short of midnight.
2. **Local to UTC.**  Wall times become UTC as ``zoneinfo`` does with ``fold=0``: a wall
   time that happens twice (autumn) means its first occurrence; a wall time that never
   happens (the spring gap) is read with the offset in force just before the gap.  So a
   shift can shrink, grow or vanish on a DST day; one that ends up with its UTC end not
   after its UTC start is empty.
3. **Union, half-open.**  Business time ``B`` is the union of all shifts, overlaps counted
   once.  Every interval is ``[start, end)``: a poll exactly at the opening instant is in
   business time, a poll exactly at the closing instant is not.
4. **Observations.**  Only polls taken during business time within ``[now - 168 h, now]``
   (both ends included) count.  Everything else is ignored.
5. **Nearest neighbour.**  Each instant of business time takes the status of the
   observation closest to it in time; the status changes halfway between two
   observations of different status.  There is no distance cap and no decay, so the
   first observation also rules everything before it, the last everything after it.
6. **Windows.**  Uptime for a window ``[a, now)`` is how much business time in it is
   active, downtime how much is inactive.  The windows are the last hour, the last 24 h
   and the last 168 h.  With at least one observation, uptime + downtime equals the
   business time in the window; with none, both are zero.

Worked example
==============

Open 09:00-12:00, polls at 10:14 (active) and 11:15 (inactive).  The midpoint of the two
polls is 10:44:30, so the store counts as up from opening until 10:44:30 and down from
then until closing::

    time   09:00                    10:14   10:44:30    11:15          12:00
    polls    |                        A         :         I              |
    status   [=============== up ===============)[--------- down --------)
             |<---------- 104.5 min ----------->|<------ 75.5 min ------>|

(``A`` = active poll, ``I`` = inactive poll; one character is three minutes.)

Exactness
=========

Midpoints of two microsecond instants may fall on half microseconds, so the status
arithmetic works in *half-microseconds* (``2 * instant``) as plain integers, and only the
six final numbers become :class:`fractions.Fraction` seconds.

How a caller computes one store's row
=====================================

::

    business = business_intervals_for_week(hours, tz, now)
    uptime = store_uptime(polls, business, now)

``business_intervals_for_week(hours, tz, now)`` is exactly
``business_intervals(hours, tz, now - WEEK, now + 1)``.  The one extra microsecond is
there so that a poll taken exactly at ``now`` can be tested for membership in business
time (rule 4 includes ``now``); it is never measured, because every window ends at
``now`` (exclusive).  ``polls`` are the store's polls sorted by time; polls outside
``[now - WEEK, now]`` may be included and are ignored.

Outages and timelines
=====================

The store pages and the outages API show the same stretches the report measures:
:func:`store_timeline` returns the observations, the up/down stretches of
:func:`status_stretches`, the numbers of :func:`store_uptime`, and the *outages*.  An
outage is a contiguous stretch of downtime within business time; it ends where the
store is seen up again or where business time ends (closing time ends an outage: the
closed hours are neither up nor down, so a store down over night has two).  In the
worked example there is one outage, 10:44:30-12:00 (75.5 min), resting on the 11:15
poll.  The outages of a window, cut to the window (:func:`outage_seconds_in_window`),
add up to its downtime exactly.

Choices where the contract is silent
====================================

* A shift whose end equals its start runs to the same *wall* time next day, so across
  a clock change it lasts 23 or 25 real hours (SEMANTICS: "24 h in local wall time").
* A poll exactly at ``now`` is an observation when ``now`` itself is business time
  (``[now - 168 h, now]`` is closed at ``now``), although ``now`` is never measured.
* Two polls of one store at the same instant: the later one in ``polls`` wins (as the
  loader keeps the later row for a repeated poll key).
* An instant exactly halfway between two observations of different status takes the
  status of the later observation.  This affects no measure, only :func:`status_at`.
* Polls out of time order are refused with ``ValueError`` rather than silently giving
  wrong numbers.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from functools import lru_cache
from itertools import compress, islice
from operator import ge, gt, itemgetter, ne
from typing import NamedTuple, TypeAlias, overload
from zoneinfo import ZoneInfo

from reports.engine.units import (
    HALF_MICROSECONDS_PER_SECOND,
    WEEK,
    WINDOWS,
    Instant,
    Window,
    instant_datetime,
    to_instant,
)

Interval: TypeAlias = tuple[Instant, Instant]
"""Half-open ``[start, end)`` in microseconds."""

HalfInstant: TypeAlias = int
"""Twice an :data:`Instant`: exact for midpoints of two instants."""

Poll: TypeAlias = tuple[Instant, bool]
"""``(instant, active)``: one status poll of a store."""


class _HoursRowFields(NamedTuple):
    day_of_week: int  # 0 = Monday ... 6 = Sunday
    start: time
    end: time


class HoursRow(_HoursRowFields):
    """One business-hours row: open on ``day_of_week`` from ``start`` to ``end``, local wall clock.

    A named tuple rather than a frozen dataclass: a report keys its business-time memo
    on each store's set of rows (86k rows at 1x), and a tuple hashes and compares in C.
    """

    __slots__ = ()

    def __new__(cls, day_of_week: int, start: time, end: time) -> HoursRow:
        if not 0 <= day_of_week <= 6:
            raise ValueError(f"day_of_week must be 0..6, got {day_of_week}")
        return super().__new__(cls, day_of_week, start, end)


class PollSeries(Sequence[tuple[int, bool]]):
    """A store's polls as two parallel lists, instants and statuses: a ``Sequence`` of ``(instant, active)``.

    The shape the database sends them in (one array of each per store). A report reads
    1.6M polls a week; making a tuple of each and taking the tuples apart again cost more
    than the rest of the polls' Python work, so the engine reads these lists directly
    (:func:`poll_columns`). It compares equal to a list of the same ``(instant, active)`` pairs.
    """

    __slots__ = ("times", "actives")

    def __init__(self, times: list[int], actives: list[bool]) -> None:
        if len(times) != len(actives):
            raise ValueError(f"{len(times)} instants but {len(actives)} statuses")
        self.times = times
        self.actives = actives

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, index: int) -> tuple[int, bool]: ...

    @overload
    def __getitem__(self, index: slice) -> PollSeries: ...

    def __getitem__(self, index: int | slice) -> tuple[int, bool] | PollSeries:
        if isinstance(index, slice):
            return PollSeries(self.times[index], self.actives[index])
        return self.times[index], self.actives[index]

    def __iter__(self) -> Iterator[tuple[int, bool]]:
        return zip(self.times, self.actives, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PollSeries):
            return self.times == other.times and self.actives == other.actives
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return f"PollSeries({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Uptime:
    """Business time in one window, split by status; exact seconds."""

    up: Fraction
    down: Fraction


@dataclass(frozen=True, slots=True)
class StoreUptime:
    """One store's numbers for the three windows of :data:`~reports.engine.units.WINDOWS`."""

    last_hour: Uptime
    last_day: Uptime
    last_week: Uptime

    def of(self, window: Window) -> Uptime:
        uptime: Uptime = getattr(self, window.name)
        return uptime


class _HalfMicrosecondSpan:
    """Bounds in half-microseconds (``2 * Instant``), so that midpoints stay exact."""

    __slots__ = ()
    start_half_us: HalfInstant
    end_half_us: HalfInstant

    @property
    def start(self) -> Fraction:
        """Start in microseconds since the epoch (may be a half microsecond)."""
        return Fraction(self.start_half_us, 2)

    @property
    def end(self) -> Fraction:
        """End (exclusive) in microseconds since the epoch."""
        return Fraction(self.end_half_us, 2)

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.end_half_us - self.start_half_us, HALF_MICROSECONDS_PER_SECOND)


@dataclass(frozen=True, slots=True)
class Stretch(_HalfMicrosecondSpan):
    """A maximal run of one status inside one business interval.

    Bounds are in half-microseconds (``2 * Instant``) so that midpoints stay exact;
    use :attr:`start` / :attr:`end` for microseconds as fractions.
    """

    start_half_us: HalfInstant
    end_half_us: HalfInstant
    active: bool


class Observations(NamedTuple):
    """Polls that count (rule 4), as parallel lists: strictly increasing times, status."""

    times: list[Instant]
    active: list[bool]


class StatusRuns(NamedTuple):
    """Nearest-neighbour status as runs (rule 5).

    ``active[k]`` holds on ``[boundaries[k - 1], boundaries[k])`` in half-microseconds;
    the first run reaches back to minus infinity, the last on to plus infinity, so
    ``len(active) == len(boundaries) + 1``.
    """

    boundaries_half_us: list[HalfInstant]
    active: list[bool]


RawStretch: TypeAlias = tuple[HalfInstant, HalfInstant, bool]
"""``(start, end, active)`` in half-microseconds: a :class:`Stretch` without the object."""


# --- Rules 1-3: business time in UTC ---------------------------------------------------


def shift_wall_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Rule 1: a shift's local wall start and end; a shift belongs to the day it starts on.

    ``end > start`` ends the same day; ``end < start`` runs past midnight into the next
    day; ``end == start`` lasts until the same wall time next day.
    """
    end_day = day if end > start else day + timedelta(days=1)
    return datetime.combine(day, start), datetime.combine(end_day, end)


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> Instant:
    """Rule 2: a naive local wall time in ``tz`` as a UTC instant, the way ``fold=0`` reads it.

    Ambiguous wall times take their first occurrence; nonexistent ones take the offset
    in force before the change.
    """
    aware = wall.replace(tzinfo=tz, fold=0)
    return to_instant(aware)


def shift_to_utc(day: date, start: time, end: time, tz: ZoneInfo) -> Interval | None:
    """Rules 1-2: the UTC interval of the shift ``start``-``end`` opening on local ``day``.

    ``None`` when the UTC end is not after the UTC start (a shift lost in a DST gap).
    """
    wall_start, wall_end = shift_wall_times(day, start, end)
    utc_start, utc_end = wall_to_utc(wall_start, tz), wall_to_utc(wall_end, tz)
    return (utc_start, utc_end) if utc_end > utc_start else None


# Thousands of stores share a zone and the same opening times.
_shift_to_utc_cached = lru_cache(maxsize=1 << 16)(shift_to_utc)


def local_date(instant: Instant, tz: ZoneInfo) -> date:
    return instant_datetime(instant).astimezone(tz).date()


def local_dates_touching(tz: ZoneInfo, start: Instant, end: Instant) -> list[date]:
    """Every local date whose shifts could reach into ``[start, end)``.

    A shift starting on date D ends at the latest at wall time D + 2 days 00:00 (a 24 h
    shift starting just before midnight), and DST gaps move wall times by a few hours;
    two days of margin before and one after cover both.
    """
    first = local_date(start, tz) - timedelta(days=2)
    last = local_date(end, tz) + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def union_of_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Rule 3: sorted, disjoint, non-adjacent union; overlaps counted once, empties dropped."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def business_intervals(hours: Sequence[HoursRow], tz: ZoneInfo, start: Instant, end: Instant) -> list[Interval]:
    """Business time within ``[start, end)``: sorted, disjoint, non-adjacent, clipped.

    Empty ``hours`` means open 24x7, i.e. ``[(start, end)]``.  Each shift is built from
    its local date by rules 1-2 independently of the others, then clipped and united.
    """
    if end <= start:
        return []
    if not hours:
        return [(start, end)]
    rows_by_weekday: dict[int, list[HoursRow]] = {}
    for row in hours:
        rows_by_weekday.setdefault(row.day_of_week, []).append(row)
    pieces: list[Interval] = []
    for day in local_dates_touching(tz, start, end):
        for row in rows_by_weekday.get(day.weekday(), ()):
            shift = _shift_to_utc_cached(day, row.start, row.end, tz)
            if shift is not None and shift[1] > start and shift[0] < end:
                pieces.append((max(shift[0], start), min(shift[1], end)))
    return union_of_intervals(pieces)


def business_intervals_for_week(hours: Sequence[HoursRow], tz: ZoneInfo, now: Instant) -> list[Interval]:
    """The business time :func:`store_uptime` needs for a report at ``now``.

    Exactly ``business_intervals(hours, tz, now - WEEK, now + 1)``.  The extra
    microsecond lets a poll exactly at ``now`` count when ``now`` is inside business
    time (observations include ``now``); it is never measured, because all windows end
    at ``now``.  Memoised on the set of rows, so stores sharing a schedule and a zone
    (most of them) are computed once per report.
    """
    return list(_business_intervals_memo(frozenset(hours), tz, now - WEEK, now + 1))


@lru_cache(maxsize=1 << 13)
def _business_intervals_memo(
    hours: frozenset[HoursRow], tz: ZoneInfo, start: Instant, end: Instant
) -> tuple[Interval, ...]:
    # Row order and repeated rows never change a union, so a frozenset is a faithful key.
    return tuple(business_intervals(tuple(hours), tz, start, end))


# --- Rules 4-5: observations and nearest-neighbour status ------------------------------


def observations_in_business(polls: Sequence[Poll], business: Sequence[Interval], now: Instant) -> Observations:
    """Rule 4: polls in ``[now - WEEK, now]`` that fall inside business time (:func:`observations_between`)."""
    return observations_between(polls, business, now - WEEK, now)


def poll_columns(polls: Sequence[Poll]) -> tuple[list[Instant], list[bool]]:
    """The instants and the statuses of ``polls``, as two lists (a :class:`PollSeries` already is both)."""
    if isinstance(polls, PollSeries):
        return polls.times, polls.actives
    return list(map(itemgetter(0), polls)), list(map(itemgetter(1), polls))


def observations_between(
    polls: Sequence[Poll], business: Sequence[Interval], start: Instant, end: Instant
) -> Observations:
    """Polls in ``[start, end]`` (both included) that fall inside business time: the week's, or a period's.

    ``polls`` must be sorted by time (``ValueError`` otherwise), ``business`` sorted and
    disjoint.  Of two polls at the same instant the later one wins.  Each business
    interval picks its polls by bisection, so the per-poll work happens in C (one
    comparison pass, then slices).
    """
    times, active = poll_columns(polls)
    if any(map(ge, times, islice(times, 1, None))):
        return _observations_with_repeats(times, active, business, start, end)
    return _observations_increasing(times, active, business, bisect_left(times, start), bisect_right(times, end))


def _observations_increasing(
    times: list[Instant], active: list[bool], business: Sequence[Interval], first: int, last: int
) -> Observations:
    """The observations among ``times[first:last]``, strictly increasing instants: those in business time."""
    observed_times: list[Instant] = []
    observed_active: list[bool] = []
    for interval_start, interval_end in business:
        first = bisect_left(times, interval_start, first, last)
        upto = bisect_left(times, interval_end, first, last)
        observed_times += times[first:upto]
        observed_active += active[first:upto]
        first = upto
    return Observations(observed_times, observed_active)


def status_runs_between(
    polls: Sequence[Poll], business: Sequence[Interval], start: Instant, end: Instant
) -> StatusRuns:
    """``status_segments(observations_between(polls, business, start, end))``, skipping what cannot change it.

    When every poll in ``[start, end]`` has one status (46% of the stores at 1x),
    so do the observations: one run of that status if any poll falls in business
    time, none otherwise; the observations need not be listed.
    """
    times, active = poll_columns(polls)
    if any(map(ge, times, islice(times, 1, None))):
        return status_segments(_observations_with_repeats(times, active, business, start, end))
    first, last = bisect_left(times, start), bisect_right(times, end)
    statuses = active[first:last]
    if True in statuses and False in statuses:
        return status_segments(_observations_increasing(times, active, business, first, last))
    for interval_start, interval_end in business:
        at = bisect_left(times, interval_start, first, last)
        if at < last and times[at] < interval_end:
            return StatusRuns([], [active[at]])
    return StatusRuns([], [])


def _observations_with_repeats(
    times: list[Instant], active: list[bool], business: Sequence[Interval], start: Instant, end: Instant
) -> Observations:
    """:func:`observations_between` for polls that are not strictly increasing: equal instants, or out of order."""
    if any(map(gt, times, islice(times, 1, None))):
        raise ValueError("polls must be sorted by time")
    first, last = bisect_left(times, start), bisect_right(times, end)
    status_by_time: dict[Instant, bool] = {}
    for interval_start, interval_end in business:
        first = bisect_left(times, interval_start, first, last)
        upto = bisect_left(times, interval_end, first, last)
        status_by_time.update(zip(times[first:upto], active[first:upto], strict=True))
        first = upto
    return Observations(list(status_by_time), list(status_by_time.values()))


def status_segments(observations: Observations) -> StatusRuns:
    """Rule 5: nearest-neighbour status as runs; a run ends halfway to the next status change.

    Consecutive observations with the same status form one run, so the boundaries are
    the midpoints (doubled: ``t1 + t2``) between neighbours of different status.
    """
    times, active = observations
    if not times:
        return StatusRuns([], [])
    # Runs of equal status cost nothing in Python: the indexes where the status
    # changes are found in C (``compress`` over ``ne``), and only those are visited.
    changes = list(compress(range(1, len(active)), map(ne, active, islice(active, 1, None))))
    boundaries: list[HalfInstant] = [times[change - 1] + times[change] for change in changes]
    statuses = [active[0], *[active[change] for change in changes]]
    return StatusRuns(boundaries, statuses)


def status_at(runs: StatusRuns, instant: Instant) -> bool | None:
    """Rule 5 at one instant: the nearest observation's status; ``None`` with no observations.

    Exactly halfway between two observations the later one wins.
    """
    if not runs.active:
        return None
    return runs.active[bisect_right(runs.boundaries_half_us, 2 * instant)]


def stretches_in_business(
    business: Sequence[Interval], runs: StatusRuns, start: Instant, end: Instant
) -> list[RawStretch]:
    """Rules 5-6 joined: business time within ``[start, end)`` cut into maximal same-status stretches.

    One linear merge of the business intervals with the status runs; consecutive
    stretches inside one business interval alternate in status.
    """
    if not runs.active:
        return []
    boundaries, statuses = runs
    window_start, window_end = 2 * start, 2 * end
    stretches: list[RawStretch] = []
    k, n = 0, len(boundaries)
    for interval_start, interval_end in business:
        lo = max(2 * interval_start, window_start)
        hi = min(2 * interval_end, window_end)
        if lo >= hi:
            continue
        while k < n and boundaries[k] <= lo:
            k += 1
        while k < n and boundaries[k] < hi:
            stretches.append((lo, boundaries[k], statuses[k]))
            lo = boundaries[k]
            k += 1
        stretches.append((lo, hi, statuses[k]))
    return stretches


def status_stretches(polls: Sequence[Poll], business: Sequence[Interval], now: Instant) -> list[Stretch]:
    """The week's business time ``[now - WEEK, now)`` as maximal up/down stretches, in time order.

    Same inputs and same computation as :func:`store_uptime` (which measures these
    stretches); empty when the store has no observations.
    """
    runs = status_segments(observations_in_business(polls, business, now))
    return [Stretch(lo, hi, is_active) for lo, hi, is_active in stretches_in_business(business, runs, now - WEEK, now)]


# --- Rule 6: measuring windows ---------------------------------------------------------


def measure_overlap(stretches: Sequence[RawStretch], start: Instant, end: Instant) -> tuple[int, int]:
    """Half-microseconds of active and inactive stretch time inside ``[start, end)``.

    Walks from the latest stretch backwards, so short windows ending at ``now`` stop early.
    """
    window_start, window_end = 2 * start, 2 * end
    up = down = 0
    for lo, hi, is_active in reversed(stretches):
        if hi <= window_start:
            break
        overlap = min(hi, window_end) - max(lo, window_start)
        if overlap > 0:
            if is_active:
                up += overlap
            else:
                down += overlap
    return up, down


def uptime_in_window(stretches: Sequence[RawStretch], start: Instant, end: Instant) -> Uptime:
    """Rule 6: uptime and downtime in ``[start, end)``, exact seconds."""
    return _uptime_of(measure_overlap(stretches, start, end))


def _uptime_of(totals: tuple[int, int]) -> Uptime:
    up, down = totals
    return Uptime(Fraction(up, HALF_MICROSECONDS_PER_SECOND), Fraction(down, HALF_MICROSECONDS_PER_SECOND))


WindowTotals: TypeAlias = tuple[tuple[int, int], ...]
"""Per window of :data:`~reports.engine.units.WINDOWS`, in that order: ``(up, down)`` in half-microseconds."""


def store_window_totals(polls: Sequence[Poll], business: Sequence[Interval], now: Instant) -> WindowTotals:
    """:func:`store_uptime`'s numbers as integers: what the report's CSV rounds, without a ``Fraction`` each."""
    runs = status_runs_between(polls, business, now - WEEK, now)
    return window_totals(stretches_in_business(business, runs, now - WEEK, now), now)


def window_totals(stretches: Sequence[RawStretch], now: Instant) -> WindowTotals:
    """Rule 6 for the three report windows, from the week's stretches, as half-microseconds."""
    return tuple(measure_overlap(stretches, now - window.length, now) for window in WINDOWS)


def uptime_of_totals(totals: WindowTotals) -> StoreUptime:
    """The exact seconds of :func:`window_totals`."""
    return StoreUptime(**{window.name: _uptime_of(pair) for window, pair in zip(WINDOWS, totals, strict=True)})


def store_uptime(polls: Sequence[Poll], business: Sequence[Interval], now: Instant) -> StoreUptime:
    """Uptime and downtime of one store for the last hour, day and week before ``now``.

    ``polls``: the store's ``(instant, active)`` polls sorted by time; those outside
    ``[now - WEEK, now]`` are ignored.  ``business``: sorted, disjoint business intervals
    covering at least ``[now - WEEK, now + 1)`` -- pass
    ``business_intervals_for_week(hours, tz, now)``.  (With intervals that stop at
    ``now`` a poll exactly at ``now`` would wrongly be treated as out of hours.)
    """
    return uptime_of_totals(store_window_totals(polls, business, now))


def uptime_by_window(stretches: Sequence[RawStretch], now: Instant) -> StoreUptime:
    """Rule 6 for the three report windows, from the week's stretches."""
    return uptime_of_totals(window_totals(stretches, now))


# --- Outages: the week's downtime as episodes an owner can read --------------------------


@dataclass(frozen=True, slots=True)
class Outage(_HalfMicrosecondSpan):
    """A contiguous stretch of downtime within business time, and the polls it rests on.

    An outage ends where the store is up again *or where business time ends*: downtime
    is measured only in business time, so a store down at closing and still down at the
    next opening has two outages, and the closed time between them is neither up nor
    down.  Business intervals never touch (rule 3 unites them), so "contiguous" means
    "within one business interval".  Bounds are half-microseconds, as in :class:`Stretch`.

    ``polls`` are the inactive observations the outage rests on: each one whose
    nearest-neighbour reach (rule 5) covers part of it.  They may lie outside the outage,
    even outside business time of that day: a store seen down at 21:58 yesterday is down
    from today's opening until halfway to its next observation.
    """

    start_half_us: HalfInstant
    end_half_us: HalfInstant
    polls: tuple[Instant, ...]


@dataclass(frozen=True, slots=True)
class StoreTimeline:
    """One store's week as the report derives it: what it saw, the stretches, the outages, the numbers.

    ``uptime`` is measured on ``stretches`` exactly as :func:`store_uptime` measures them,
    and the outages are the down stretches, so the outages of a window add up to its
    downtime to the half microsecond.
    """

    observations: Observations
    stretches: list[Stretch]
    outages: list[Outage]
    uptime: StoreUptime


def observations_ruling(
    observations: Observations, start_half_us: HalfInstant, end_half_us: HalfInstant
) -> tuple[Instant, ...]:
    """Rule 5 read backwards: the observations whose nearest-neighbour reach overlaps ``[start, end)``.

    Observation ``i`` rules from the midpoint with its predecessor to the midpoint with
    its successor (doubled: ``t[i-1] + t[i]`` to ``t[i] + t[i+1]``; the first reaches back
    forever, the last on forever); at a midpoint the later one rules, as in :func:`status_at`.
    """
    times = observations.times
    midpoints = [earlier + later for earlier, later in zip(times, times[1:], strict=False)]
    first = bisect_right(midpoints, start_half_us)
    last = bisect_left(midpoints, end_half_us)
    return tuple(times[first : last + 1]) if start_half_us < end_half_us else ()


def outages(stretches: Sequence[Stretch], observations: Observations) -> list[Outage]:
    """The week's outages: down stretches, contiguous ones merged, each with the polls it rests on.

    :func:`status_stretches` already gives maximal stretches, so merging only matters for
    stretches from elsewhere; a down stretch that ends at closing time ends its outage.
    """
    spans: list[tuple[HalfInstant, HalfInstant]] = []
    for stretch in stretches:
        if stretch.active:
            continue
        if spans and spans[-1][1] == stretch.start_half_us:
            spans[-1] = (spans[-1][0], stretch.end_half_us)
        else:
            spans.append((stretch.start_half_us, stretch.end_half_us))
    return [Outage(start, end, observations_ruling(observations, start, end)) for start, end in spans]


def outage_seconds_in_window(found: Sequence[Outage], start: Instant, end: Instant) -> list[Fraction]:
    """Rule 6 per outage: how much of each outage lies in ``[start, end)``, for those that reach into it.

    An outage cut by the window's start counts with the part inside, so the list adds up
    to the window's downtime; its length is the window's outage count.
    """
    window_start, window_end = 2 * start, 2 * end
    inside: list[Fraction] = []
    for outage in found:
        overlap = min(outage.end_half_us, window_end) - max(outage.start_half_us, window_start)
        if overlap > 0:
            inside.append(Fraction(overlap, HALF_MICROSECONDS_PER_SECOND))
    return inside


def store_timeline(polls: Sequence[Poll], business: Sequence[Interval], now: Instant) -> StoreTimeline:
    """Everything the report derives for one store at ``now``, from the same inputs as :func:`store_uptime`."""
    observations = observations_in_business(polls, business, now)
    raw = stretches_in_business(business, status_segments(observations), now - WEEK, now)
    stretches = [Stretch(lo, hi, is_active) for lo, hi, is_active in raw]
    return StoreTimeline(observations, stretches, outages(stretches, observations), uptime_by_window(raw, now))
