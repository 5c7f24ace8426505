"""When a subscription sends and what period it reports on: daily, weekly, monthly, across DST and missed sends."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from subscriptions.cadence import Cadence, next_send_after, period_before

CHICAGO = ZoneInfo("America/Chicago")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cadence", "after", "zone", "expected"),
    [
        # 08:00 in Chicago (CST, UTC-6) is 14:00 UTC; asked at 13:59 it is today's, at 14:00 tomorrow's.
        (Cadence.DAILY, utc(2023, 1, 10, 13, 59), CHICAGO, utc(2023, 1, 10, 14)),
        (Cadence.DAILY, utc(2023, 1, 10, 14, 0), CHICAGO, utc(2023, 1, 11, 14)),
        # Tokyo is a day ahead of UTC late in the UTC day: 08:00 on the 11th in Tokyo is 23:00 UTC on the 10th.
        (Cadence.DAILY, utc(2023, 1, 10, 22), TOKYO, utc(2023, 1, 10, 23)),
        # Weekly: Mondays. 2023-01-10 is a Tuesday, so the next Monday is the 16th.
        (Cadence.WEEKLY, utc(2023, 1, 10, 12), CHICAGO, utc(2023, 1, 16, 14)),
        # Monthly: the 1st.
        (Cadence.MONTHLY, utc(2023, 1, 10, 12), CHICAGO, utc(2023, 2, 1, 14)),
        (Cadence.MONTHLY, utc(2023, 12, 31, 12), CHICAGO, utc(2024, 1, 1, 14)),
        # After spring forward (2023-03-12) 08:00 CDT is 13:00 UTC.
        (Cadence.DAILY, utc(2023, 3, 12, 14), CHICAGO, utc(2023, 3, 13, 13)),
    ],
)
def test_the_next_send(cadence: Cadence, after: datetime, zone: ZoneInfo, expected: datetime) -> None:
    assert next_send_after(cadence, 8, zone, after) == expected


def test_a_send_hour_that_does_not_exist_that_night_lands_an_hour_later_the_same_day() -> None:
    # 02:00 on 2023-03-12 does not exist in Chicago; read with fold=0 it is 02:00 CST = 08:00 UTC (03:00 CDT).
    assert next_send_after(Cadence.DAILY, 2, CHICAGO, utc(2023, 3, 12, 0)) == utc(2023, 3, 12, 8)


def test_sends_missed_for_days_collapse_into_the_next_one_after_now() -> None:
    # Counted from now, not from the last send: three missed days are not three sends.
    now = utc(2023, 1, 13, 15)
    assert next_send_after(Cadence.DAILY, 8, CHICAGO, now) == utc(2023, 1, 14, 14)


@pytest.mark.parametrize(
    ("cadence", "sent_at", "zone", "expected"),
    [
        (Cadence.DAILY, utc(2023, 1, 10, 14), CHICAGO, (utc(2023, 1, 9, 6), utc(2023, 1, 10, 6))),
        # Monday 2023-01-16 08:00 Chicago: the week from Monday the 9th to Monday the 16th, local midnights.
        (Cadence.WEEKLY, utc(2023, 1, 16, 14), CHICAGO, (utc(2023, 1, 9, 6), utc(2023, 1, 16, 6))),
        (Cadence.MONTHLY, utc(2023, 2, 1, 14), CHICAGO, (utc(2023, 1, 1, 6), utc(2023, 2, 1, 6))),
        (Cadence.DAILY, utc(2023, 1, 10, 23), TOKYO, (utc(2023, 1, 9, 15), utc(2023, 1, 10, 15))),
    ],
)
def test_the_period_sent_is_the_last_complete_local_one(
    cadence: Cadence, sent_at: datetime, zone: ZoneInfo, expected: tuple[datetime, datetime]
) -> None:
    assert period_before(cadence, sent_at, zone) == expected
