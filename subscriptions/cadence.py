"""When a subscription sends, and which period it sends: pure standard library, like the engine.

A subscription sends at ``send_hour``:00 local time: every day (daily),
every Monday (weekly), on the 1st of every month (monthly). What it sends is
the last complete local day, week (Monday to Monday) or month before the
send, as :func:`reports.engine.calendar_periods.calendar_period` counts them.
A send hour that does not exist on a day (the hour skipped when clocks go
forward) is read as the engine reads every wall time (``fold=0``): it lands
an hour later in UTC terms, never on another day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from reports.engine.calendar_periods import PeriodName, calendar_period


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


#: The named period each cadence sends (relative to the send time, in the subscription's zone).
CADENCE_PERIOD: dict[Cadence, PeriodName] = {
    Cadence.DAILY: "previous_day",
    Cadence.WEEKLY: "previous_week",
    Cadence.MONTHLY: "previous_month",
}


def _sends_on(cadence: Cadence, day: date) -> bool:
    if cadence is Cadence.WEEKLY:
        return day.weekday() == 0
    if cadence is Cadence.MONTHLY:
        return day.day == 1
    return True


def next_send_after(cadence: Cadence, send_hour: int, tz: ZoneInfo, after: datetime) -> datetime:
    """The first send strictly after ``after`` (aware), in UTC.

    A run that was missed (the workers were down) is not sent once per missed
    send: the scheduler asks for the next send after *now*, so it skips them.
    """
    day = after.astimezone(tz).date() - timedelta(days=1)  # a send late on the previous local day may still be ahead
    for _ in range(40):  # at most a month and a day ahead
        if _sends_on(cadence, day):
            at = datetime.combine(day, time(send_hour), tzinfo=tz).astimezone(UTC)
            if at > after:
                return at
        day += timedelta(days=1)
    raise AssertionError("unreachable: every cadence sends at least once in 32 days")


def period_before(cadence: Cadence, sent_at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC of what a send at ``sent_at`` reports on: the last complete local day, week or month."""
    return calendar_period(CADENCE_PERIOD[cadence], sent_at, tz)
