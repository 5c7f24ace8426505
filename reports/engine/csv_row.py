"""The report CSV: exact header and half-up rounding of exact values.

Values arrive as exact :class:`~fractions.Fraction` seconds and are rounded
only here, when written, with integer arithmetic (no float ever touches a
number a store owner reads).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from fractions import Fraction

from reports.engine.intervals import StoreUptime, WindowTotals
from reports.engine.units import HALF_MICROSECONDS_PER_SECOND, WINDOWS

#: ``store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,...`` (SEMANTICS).
HEADER = (
    "store_id",
    *(f"uptime_{window.name}" for window in WINDOWS),
    *(f"downtime_{window.name}" for window in WINDOWS),
)


def hundredths_half_up(numerator: int, denominator: int) -> str:
    """Non-negative ``numerator / denominator`` rounded half up to 2 decimals, as text (e.g. ``'104.50'``)."""
    hundredths = (200 * numerator + denominator) // (2 * denominator)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def round_half_up(seconds: Fraction, unit_seconds: int) -> str:
    """Non-negative ``seconds / unit_seconds`` rounded half up to 2 decimals, as text (e.g. ``'104.50'``)."""
    return hundredths_half_up(seconds.numerator, seconds.denominator * unit_seconds)


def report_row(store_id: str, uptime: StoreUptime) -> tuple[str, ...]:
    """One CSV row: last hour in minutes, last day and week in hours."""
    return (
        store_id,
        *(round_half_up(uptime.of(window).up, window.unit.seconds) for window in WINDOWS),
        *(round_half_up(uptime.of(window).down, window.unit.seconds) for window in WINDOWS),
    )


#: Half-microseconds per unit of each window's columns, in :data:`WINDOWS` order.
_HALF_MICROSECONDS_PER_UNIT = tuple(HALF_MICROSECONDS_PER_SECOND * window.unit.seconds for window in WINDOWS)


def report_row_of_totals(store_id: str, totals: WindowTotals) -> tuple[str, ...]:
    """:func:`report_row` of ``uptime_of_totals(totals)``, rounding the integers directly.

    The same text: ``half_us / (2e6 * unit)`` is the same rational number as the
    reduced ``Fraction`` of seconds over the unit, and the rounding is exact
    integer arithmetic on either form. It skips six ``Fraction``s a store.
    """
    units = _HALF_MICROSECONDS_PER_UNIT
    return (
        store_id,
        *(hundredths_half_up(up, unit) for (up, _), unit in zip(totals, units, strict=True)),
        *(hundredths_half_up(down, unit) for (_, down), unit in zip(totals, units, strict=True)),
    )


class NotAReportCsv(ValueError):
    """The stored file does not have the report's header (it is not the report's CSV)."""


def read_report_csv(lines: Iterable[bytes]) -> Iterator[tuple[str, ...]]:
    """The rows (no header) of a stored report CSV; :class:`NotAReportCsv` unless it starts with :data:`HEADER`.

    The one reader of stored reports: the admin and portal overviews and the
    extended CSV's check against the stored rows all read through it.
    """
    reader = csv.reader(line.decode("utf-8") for line in lines)
    header = tuple(next(reader, ()))
    if header != HEADER:
        raise NotAReportCsv(f"the stored file starts with {','.join(header)[:200]!r}, not the report header")
    return (tuple(cells) for cells in reader if cells)
