"""The period report's CSV: its columns in SEMANTICS' order, and the one value rounded half away from zero.

Every value is rounded only here, when written: half up to 2 places
(:func:`~reports.engine.csv_row.round_half_up`), except the error budget,
which may be negative and is rounded half away from zero. A percentage of
nothing is an empty cell, not 0.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction

from reports.engine.csv_row import round_half_up
from reports.engine.period import PeriodNumbers, sla_numbers
from reports.engine.units import HOURS, MINUTES

PERIOD_HEADER = (
    "store_id",
    "business_hours",
    "uptime_hours",
    "downtime_hours",
    "no_data_hours",
    "uptime_percent",
    "coverage_percent",
    "outages",
    "longest_outage_minutes",
    "mean_outage_minutes",
)
SLA_HEADER = ("sla_target_percent", "sla_met", "error_budget_minutes_left")


def period_header(*, with_sla: bool) -> tuple[str, ...]:
    """The header of a period report; the three SLA columns only when the report has a target."""
    return (*PERIOD_HEADER, *SLA_HEADER) if with_sla else PERIOD_HEADER


def round_half_away_from_zero(seconds: Fraction, unit_seconds: int) -> str:
    """``seconds / unit_seconds`` to 2 decimals, a half rounded away from zero: ``-0.125`` -> ``'-0.13'``."""
    text = round_half_up(abs(seconds), unit_seconds)
    return f"-{text}" if seconds < 0 and text != "0.00" else text


def _percent(value: Fraction | None) -> str:
    return "" if value is None else round_half_up(value, 1)


def target_text(target: Decimal) -> str:
    """The SLA target as written: 2 decimals, or 3 when it has them (targets are stored to 3 places)."""
    return f"{target:.2f}" if target == round(target, 2) else f"{target:.3f}"


def period_row(store_id: str, numbers: PeriodNumbers, sla_target: Decimal | None) -> tuple[str, ...]:
    """One store's cells in :func:`period_header` order."""
    mean = numbers.mean_outage
    cells = (
        store_id,
        round_half_up(numbers.business, HOURS.seconds),
        round_half_up(numbers.up, HOURS.seconds),
        round_half_up(numbers.down, HOURS.seconds),
        round_half_up(numbers.no_data, HOURS.seconds),
        _percent(numbers.uptime_percent),
        _percent(numbers.coverage_percent),
        str(len(numbers.outages)),
        round_half_up(numbers.longest_outage, MINUTES.seconds),
        "" if mean is None else round_half_up(mean, MINUTES.seconds),
    )
    if sla_target is None:
        return cells
    sla = sla_numbers(numbers, Fraction(sla_target))
    if sla is None:
        return (*cells, target_text(sla_target), "", "")
    return (
        *cells,
        target_text(sla_target),
        "yes" if sla.met else "no",
        round_half_away_from_zero(sla.budget_left, MINUTES.seconds),
    )


class NotAPeriodCsv(ValueError):
    """The stored file does not start with a period report's header."""


def read_period_csv(lines: Iterable[bytes]) -> tuple[tuple[str, ...], Iterator[tuple[str, ...]]]:
    """The header and rows of a stored period report CSV; :class:`NotAPeriodCsv` unless its header is one."""
    reader = csv.reader(line.decode("utf-8") for line in lines)
    header = tuple(next(reader, ()))
    if header not in (period_header(with_sla=False), period_header(with_sla=True)):
        raise NotAPeriodCsv(f"the stored file starts with {','.join(header)[:200]!r}, not a period report header")
    return header, (tuple(cells) for cells in reader if cells)
