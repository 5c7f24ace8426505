"""The report CSV: exact header and half-up rounding of exact values.

Values arrive as exact :class:`~fractions.Fraction` seconds and are rounded
only here, when written, with integer arithmetic (no float ever touches a
number a store owner reads).
"""

from __future__ import annotations

from fractions import Fraction

from reports.engine.intervals import StoreUptime

HEADER = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


def round_half_up(seconds: Fraction, unit_seconds: int) -> str:
    """Non-negative ``seconds / unit_seconds`` rounded half up to 2 decimals, as text (e.g. ``'104.50'``)."""
    numerator, denominator = seconds.numerator, seconds.denominator * unit_seconds
    hundredths = (200 * numerator + denominator) // (2 * denominator)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def report_row(store_id: str, uptime: StoreUptime) -> tuple[str, ...]:
    """One CSV row: last hour in minutes, last day and week in hours."""
    hour, day, week = uptime.last_hour, uptime.last_day, uptime.last_week
    return (
        store_id,
        round_half_up(hour.up, SECONDS_PER_MINUTE),
        round_half_up(day.up, SECONDS_PER_HOUR),
        round_half_up(week.up, SECONDS_PER_HOUR),
        round_half_up(hour.down, SECONDS_PER_MINUTE),
        round_half_up(day.down, SECONDS_PER_HOUR),
        round_half_up(week.down, SECONDS_PER_HOUR),
    )
