"""Time units, instants and the report windows: each fact defined once, for the whole project.

Pure Python, no Django. An :data:`Instant` is an integer count of microseconds
since the Unix epoch in UTC; the engine does all its arithmetic on these, and
turns them back into datetimes only at the edges (:func:`instant_datetime`).
The windows of the fixed report and the unit each is written in come from
SEMANTICS: the last hour in minutes, the last day and week in hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal, TypeAlias

Instant: TypeAlias = int
"""Microseconds since the Unix epoch, UTC."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MICROSECONDS_PER_SECOND = 1_000_000
#: The engine's exact unit for midpoints: twice an instant (see reports.engine.intervals).
HALF_MICROSECONDS_PER_SECOND = 2 * MICROSECONDS_PER_SECOND
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600

SECOND: Instant = MICROSECONDS_PER_SECOND
MINUTE: Instant = SECONDS_PER_MINUTE * SECOND
HOUR: Instant = SECONDS_PER_HOUR * SECOND
DAY: Instant = 24 * HOUR
WEEK: Instant = 7 * DAY


def to_instant(moment: datetime) -> Instant:
    """An aware datetime as microseconds since the epoch (exact: integer arithmetic)."""
    return (moment - EPOCH) // MICROSECOND


def instant_datetime(instant: Fraction | int) -> datetime:
    """An instant (microseconds, maybe a half) as an aware UTC datetime, floored to the microsecond."""
    return EPOCH + timedelta(microseconds=int(instant // 1))


def instant_delta(length: Instant) -> timedelta:
    """A length in microseconds as a ``timedelta``."""
    return timedelta(microseconds=length)


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit a duration is written in: its CSV name, its short symbol and its length."""

    name: Literal["minutes", "hours"]
    symbol: str
    seconds: int


MINUTES = Unit("minutes", "min", SECONDS_PER_MINUTE)
HOURS = Unit("hours", "h", SECONDS_PER_HOUR)

WindowName = Literal["last_hour", "last_day", "last_week"]


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed-report window ``[now - length, now)`` and the unit its columns are written in."""

    name: WindowName
    length: Instant
    unit: Unit


LAST_HOUR = Window("last_hour", HOUR, MINUTES)
LAST_DAY = Window("last_day", DAY, HOURS)
LAST_WEEK = Window("last_week", WEEK, HOURS)
WINDOWS: tuple[Window, ...] = (LAST_HOUR, LAST_DAY, LAST_WEEK)
