"""A complete period report in a few figures: what a delivered report says in its email and webhook.

Read from the stored CSV, so the summary never disagrees with the file sent
beside it. The overall uptime is the one the period report page shows
(:func:`overall_uptime_percent`): the sum of uptime over the sum of uptime +
downtime, of the CSV's two-decimal hours, exact in :class:`~decimal.Decimal`.
The worst stores are those with the lowest ``uptime_percent`` (ties by
store id); a store with nothing measured (empty percent) is not among them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from reports.engine.csv_row import round_half_up
from reports.engine.period_csv import read_period_csv
from reports.models import Report

HUNDRED = Decimal(100)
WORST_STORES = 10


def overall_uptime_percent(uptime_hours: Decimal, downtime_hours: Decimal) -> Decimal | None:
    """100 × up / (up + down) over all stores; ``None`` when nothing was measured."""
    measured = uptime_hours + downtime_hours
    return None if not measured else HUNDRED * uptime_hours / measured


@dataclass(frozen=True, slots=True)
class WorstStore:
    store_id: str
    uptime_percent: str
    longest_outage_minutes: str


@dataclass(slots=True)
class PeriodSummary:
    stores: int = 0
    uptime_hours: Decimal = Decimal(0)
    downtime_hours: Decimal = Decimal(0)
    sla_target: Decimal | None = None
    sla_measured: int = 0
    sla_met: int = 0
    worst: list[WorstStore] = field(default_factory=list)

    @property
    def uptime_percent(self) -> Decimal | None:
        return overall_uptime_percent(self.uptime_hours, self.downtime_hours)

    @property
    def uptime_percent_text(self) -> str:
        """Two decimals, half up, as every percentage in the CSV; ``—`` when nothing was measured."""
        percent = self.uptime_percent
        return "—" if percent is None else round_half_up(Fraction(percent), 1)

    def as_json(self) -> dict[str, Any]:
        """The webhook's ``summary``: figures as the CSV writes them (strings), ``null`` when not measured."""
        return {
            "stores": self.stores,
            "uptime_percent": None if self.uptime_percent is None else self.uptime_percent_text,
            "uptime_hours": str(self.uptime_hours),
            "downtime_hours": str(self.downtime_hours),
            "sla_target_percent": None if self.sla_target is None else str(self.sla_target),
            "sla_met": self.sla_met,
            "sla_measured": self.sla_measured,
            "worst_stores": [
                {
                    "store_id": store.store_id,
                    "uptime_percent": store.uptime_percent,
                    "longest_outage_minutes": store.longest_outage_minutes,
                }
                for store in self.worst
            ],
        }


def period_csv_rows(report: Report) -> Iterator[dict[str, str]]:
    """A complete period report's stored CSV, row by row, by column name: what its summaries and pages add up.

    Raises ``FileNotFoundError`` when the file is gone, :class:`~reports.engine.period_csv.NotAPeriodCsv`
    when the stored file is not a period report's.
    """
    with report.csv_file.open("rb") as stored:
        header, rows = read_period_csv(stored)
        for cells in rows:
            yield dict(zip(header, cells, strict=True))


def period_summary(report: Report, *, worst: int = WORST_STORES) -> PeriodSummary:
    """Read a complete period report's CSV once. Raises ``FileNotFoundError`` when the file is gone."""
    summary = PeriodSummary(sla_target=report.sla_target)
    heap: list[tuple[Decimal, str, str]] = []
    for cells in period_csv_rows(report):
        summary.stores += 1
        summary.uptime_hours += Decimal(cells["uptime_hours"])
        summary.downtime_hours += Decimal(cells["downtime_hours"])
        if cells.get("sla_met"):
            summary.sla_measured += 1
            summary.sla_met += cells["sla_met"] == "yes"
        if cells["uptime_percent"]:
            heap.append((Decimal(cells["uptime_percent"]), cells["store_id"], cells["longest_outage_minutes"]))
    summary.worst = [
        WorstStore(store_id, f"{percent:.2f}", longest) for percent, store_id, longest in heapq.nsmallest(worst, heap)
    ]
    return summary
