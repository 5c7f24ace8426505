"""Named periods (``last_7_days`` ... ``month_to_date``) as UTC ``[start, end)``, relative to a report's ``now``.

Calendar periods start at local midnight in the zone given (an organization's,
or UTC for a fleet report), read as rule 2 of :mod:`reports.engine.intervals`
reads every wall time (``fold=0``); the rolling ones are plain UTC lengths
ending at ``now``. Weeks run Monday to Monday (ISO). Pure stdlib.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

PeriodName = Literal["last_7_days", "last_30_days", "previous_day", "previous_week", "previous_month", "month_to_date"]
PERIOD_NAMES: tuple[str, ...] = get_args(PeriodName)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``day``'s 00:00 in ``tz`` (``fold=0``, as every wall time in the engine)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _previous_month_first(day: date) -> date:
    return (_first_of_month(day) - timedelta(days=1)).replace(day=1)


def calendar_period(name: PeriodName, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC of the named period for a report whose ``now`` is ``now`` (aware).

    ``last_7_days`` / ``last_30_days``: the 168 h / 720 h before ``now``.
    ``previous_day``: yesterday, from local midnight to local midnight.
    ``previous_week``: from the Monday 00:00 before this week's to this week's (local).
    ``previous_month``: from the first of last month 00:00 to the first of this month (local).
    ``month_to_date``: from the first of this month 00:00 (local) to ``now``.
    """
    today = now.astimezone(tz).date()
    if name == "last_7_days":
        return now - timedelta(days=7), now
    if name == "last_30_days":
        return now - timedelta(days=30), now
    if name == "previous_day":
        return local_midnight(today - timedelta(days=1), tz), local_midnight(today, tz)
    if name == "previous_week":
        this_monday = today - timedelta(days=today.weekday())
        return local_midnight(this_monday - timedelta(days=7), tz), local_midnight(this_monday, tz)
    if name == "previous_month":
        return local_midnight(_previous_month_first(today), tz), local_midnight(_first_of_month(today), tz)
    if name == "month_to_date":
        return local_midnight(_first_of_month(today), tz), now
    raise ValueError(f"unknown period {name!r}; one of {', '.join(PERIOD_NAMES)}")
