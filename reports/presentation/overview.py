"""A complete report at a glance, read from its stored CSV: totals, uptime histogram, worst stores.

The CSV *is* the report, so every number here is read from it and nothing is
recomputed: a page can never disagree with the file a client downloads.
Arithmetic on the CSV's two-decimal values is done in :class:`~decimal.Decimal`,
so the totals are exact sums of what the file says.

* **Business hours covered** is the sum over stores of weekly uptime +
  downtime: the business time the report could judge (a store with no
  observation in business hours contributes nothing, per SEMANTICS).
* **Weekly uptime %** of a store is ``uptime / (uptime + downtime)``; overall, the
  same over the sums. A store with neither is *unobserved*: it has no
  percentage and is counted apart, not as 0 %.
* The **histogram** puts observed stores in ten buckets of 10 points,
  ``[0, 10)``, ``[10, 20)``, ..., with ``[90, 100]`` closed so 100 % has a home.
* The **worst stores** are those with the most weekly downtime (ties by store
  id), only stores with some downtime.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from reports.engine.csv_row import HEADER, read_report_csv
from reports.models import Report

_UPTIME_WEEK = HEADER.index("uptime_last_week")
_DOWNTIME_WEEK = HEADER.index("downtime_last_week")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class StoreRow:
    """One CSV row, its weekly numbers as decimals."""

    cells: tuple[str, ...]
    uptime_week: Decimal
    downtime_week: Decimal

    @property
    def store_id(self) -> str:
        return self.cells[0]

    @property
    def uptime_percent(self) -> Decimal | None:
        measured = self.uptime_week + self.downtime_week
        return None if not measured else HUNDRED * self.uptime_week / measured


@dataclass(frozen=True, slots=True)
class UptimeBucket:
    """Stores whose weekly uptime % is in ``[low, high)`` (``[low, 100]`` for the last bucket)."""

    low: int
    high: int
    stores: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(frozen=True, slots=True)
class ReportOverview:
    header: tuple[str, ...]
    stores: int
    observed_stores: int
    uptime_hours: Decimal
    downtime_hours: Decimal
    buckets: list[UptimeBucket]
    worst: list[StoreRow]
    first_rows: list[tuple[str, ...]]

    @property
    def unobserved_stores(self) -> int:
        return self.stores - self.observed_stores

    @property
    def business_hours(self) -> Decimal:
        return self.uptime_hours + self.downtime_hours

    @property
    def uptime_percent(self) -> Decimal | None:
        return None if not self.business_hours else HUNDRED * self.uptime_hours / self.business_hours


def csv_store_rows(stored: IO[bytes]) -> tuple[tuple[str, ...], Iterator[StoreRow]]:
    """The header and the rows of a stored report CSV; :class:`NotAReportCsv` for any other file."""
    cells = read_report_csv(stored)
    rows = (StoreRow(row, Decimal(row[_UPTIME_WEEK]), Decimal(row[_DOWNTIME_WEEK])) for row in cells)
    return HEADER, rows


def bucket_index(percent: Decimal, buckets: int) -> int:
    """Which of ``buckets`` equal buckets over 0-100 % holds ``percent``; 100 % falls in the last."""
    return min(int(percent * buckets // HUNDRED), buckets - 1)


def report_overview(report: Report, *, buckets: int = 10, worst: int = 20, first_rows: int = 20) -> ReportOverview:
    """Read a complete report's CSV once.

    Raises ``FileNotFoundError`` when it is no longer stored, :class:`NotAReportCsv`
    when the file is not a report CSV.
    """
    counts = [0] * buckets
    stores = observed = 0
    uptime = downtime = Decimal(0)
    shown: list[tuple[str, ...]] = []
    with_downtime: list[StoreRow] = []
    with report.csv_file.open("rb") as stored:
        header, rows = csv_store_rows(stored)
        for row in rows:
            stores += 1
            if len(shown) < first_rows:
                shown.append(row.cells)
            uptime += row.uptime_week
            downtime += row.downtime_week
            percent = row.uptime_percent
            if percent is not None:
                observed += 1
                counts[bucket_index(percent, buckets)] += 1
            if row.downtime_week > 0:
                with_downtime.append(row)
    width = 100 // buckets
    return ReportOverview(
        header=header,
        stores=stores,
        observed_stores=observed,
        uptime_hours=uptime,
        downtime_hours=downtime,
        buckets=[
            UptimeBucket(index * width, 100 if index == buckets - 1 else (index + 1) * width, count)
            for index, count in enumerate(counts)
        ],
        worst=heapq.nsmallest(worst, with_downtime, key=lambda row: (-row.downtime_week, row.store_id)),
        first_rows=shown,
    )


def report_csv_row(report: Report, store_id: str) -> tuple[str, ...] | None:
    """One store's row of a complete report's CSV, as stored; ``None`` when it has none."""
    with report.csv_file.open("rb") as stored:
        _, rows = csv_store_rows(stored)
        return next((row.cells for row in rows if row.store_id == store_id), None)
