"""A complete period report at a glance: what an owner asks of a period, for the admin and the portal.

:func:`period_report_page` builds the page's whole context (numbers and the
chart) from the report's stored CSV, as :mod:`reports.presentation.overview`
does for the fixed report, so a page never disagrees with the file a client
downloads; :func:`period_store_page` adds one store's outages over the
period, recomputed from the report's snapshot by the engine. Neither knows
about the admin: the portal calls the same two functions with its own links.

* **Overall uptime %**: the sum of uptime over the sum of uptime + downtime
  (of the CSV's two-decimal hours, exact in :class:`~decimal.Decimal`); empty
  when nothing was measured.
* **Stores that met the SLA**: rows whose ``sla_met`` is ``yes``, out of the rows
  with an ``sla_met`` (a store with no uptime % is neither).
* **Most error budget spent**: the rows with the least ``error_budget_minutes_left``
  (most negative first, ties by store id); without an SLA target, the most downtime.
* **Coverage histogram**: stores by ``coverage_percent`` in ten buckets of 10
  points (the last includes 100 %); stores without business time are counted apart.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.safestring import mark_safe

from reports.engine.period_csv import NotAPeriodCsv
from reports.engine.units import instant_datetime
from reports.models import Report
from reports.period_services import period_store_in_report
from reports.period_summary import overall_uptime_percent, period_csv_rows
from reports.presentation.charts import Bar, histogram_svg
from reports.presentation.durations import duration_text
from reports.presentation.overview import bucket_index


@dataclass(frozen=True, slots=True)
class PeriodStoreRow:
    """One CSV row, by column name."""

    cells: dict[str, str]
    url: str

    @property
    def store_id(self) -> str:
        return self.cells["store_id"]


@dataclass(frozen=True, slots=True)
class CoverageBucket:
    low: int
    high: int
    stores: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


@dataclass(slots=True)
class PeriodReportPage:
    """Everything the period report page shows; ``coverage_svg`` is escaped SVG markup."""

    report: Report
    stores: int = 0
    business_hours: Decimal = Decimal(0)
    uptime_hours: Decimal = Decimal(0)
    downtime_hours: Decimal = Decimal(0)
    no_data_hours: Decimal = Decimal(0)
    sla_measured: int = 0
    sla_met: int = 0
    without_business_time: int = 0
    coverage_buckets: list[CoverageBucket] = field(default_factory=list)
    most_budget_spent: list[PeriodStoreRow] = field(default_factory=list)
    coverage_svg: str = ""

    @property
    def uptime_percent(self) -> Decimal | None:
        return overall_uptime_percent(self.uptime_hours, self.downtime_hours)

    @property
    def has_sla(self) -> bool:
        return self.report.sla_target is not None


def _spent_key(cells: dict[str, str]) -> tuple[Decimal, str]:
    budget = cells.get("error_budget_minutes_left", "")
    if "sla_target_percent" in cells:
        # Empty budget (nothing measured): spent nothing, last.
        return (Decimal(budget) if budget else Decimal("Infinity"), cells["store_id"])
    return (-Decimal(cells["downtime_hours"]), cells["store_id"])


def period_report_page(
    report: Report, *, store_url: Callable[[str], str], top: int = 20, buckets: int = 10
) -> PeriodReportPage:
    """Read a complete period report's CSV once; ``store_url(store_id)`` links each listed store.

    Raises ``FileNotFoundError`` when the CSV is gone, :class:`~reports.engine.period_csv.NotAPeriodCsv`
    when the stored file is not a period report's.
    """
    page = PeriodReportPage(report=report)
    counts = [0] * buckets
    heap: list[tuple[tuple[Decimal, str], dict[str, str]]] = []
    for cells in period_csv_rows(report):
        page.stores += 1
        page.business_hours += Decimal(cells["business_hours"])
        page.uptime_hours += Decimal(cells["uptime_hours"])
        page.downtime_hours += Decimal(cells["downtime_hours"])
        page.no_data_hours += Decimal(cells["no_data_hours"])
        if cells["coverage_percent"]:
            counts[bucket_index(Decimal(cells["coverage_percent"]), buckets)] += 1
        else:
            page.without_business_time += 1
        if cells.get("sla_met"):
            page.sla_measured += 1
            page.sla_met += cells["sla_met"] == "yes"
        key = _spent_key(cells)
        if key[0] != Decimal("Infinity") and (page.has_sla or key[0] < 0):
            heap.append((key, cells))
    width = 100 // buckets
    page.coverage_buckets = [
        CoverageBucket(index * width, 100 if index == buckets - 1 else (index + 1) * width, count)
        for index, count in enumerate(counts)
    ]
    page.most_budget_spent = [
        PeriodStoreRow(cells, store_url(cells["store_id"])) for _, cells in heapq.nsmallest(top, heap)
    ]
    page.coverage_svg = histogram_svg(
        [
            Bar(bucket.label, bucket.stores, f"{bucket.stores} stores with coverage {bucket.label} %")
            for bucket in page.coverage_buckets
        ],
        chart_id="coverage-histogram",
        title="Stores by coverage",
        description=(
            f"Histogram of {page.stores - page.without_business_time} stores by the share of their business time "
            "observed (a poll within an hour), in buckets of 10 points. The table below gives each count."
        ),
        x_label="coverage (% of business hours within 1 h of a poll)",
        y_label="stores",
    )
    return page


@dataclass(frozen=True, slots=True)
class OutageLine:
    """One outage as a page shows it: local start and end, and its length."""

    start: datetime
    end: datetime
    duration: str


@dataclass(frozen=True, slots=True)
class PeriodStorePage:
    store_id: str
    zone: str
    business: str
    uptime: str
    downtime: str
    no_data: str
    outages: list[OutageLine]


def period_store_page(report: Report, store_id: str) -> PeriodStorePage | None:
    """One store's outages over the period (local times in its zone); ``None`` when it has no row."""
    store = period_store_in_report(report=report, store_id=store_id)
    if store is None:
        return None
    numbers = store.numbers

    def local(instant: Fraction) -> datetime:
        return instant_datetime(instant).astimezone(store.zone)

    return PeriodStorePage(
        store_id=store_id,
        zone=store.zone.key,
        business=duration_text(numbers.business),
        uptime=duration_text(numbers.up),
        downtime=duration_text(numbers.down),
        no_data=duration_text(numbers.no_data),
        outages=[
            OutageLine(local(start), local(end), duration_text(Fraction(end - start, 1_000_000)))
            for start, end in store.outages
        ],
    )


def period_report_context(report: Report, *, store_url: Callable[[str], str], download_url: str) -> dict[str, Any]:
    """The template context of ``reports/_period_report.html`` for a complete period report (admin and portal).

    A stored CSV that is gone or not a period report's gives the same flags
    as the fixed report's overview (``report_file_gone``, ``report_file_unreadable``).
    """
    try:
        page = period_report_page(report, store_url=store_url)
    except FileNotFoundError:
        return {"report_file_gone": True}
    except NotAPeriodCsv as error:
        return {"report_file_unreadable": str(error)}
    return {
        "period_page": page,
        "coverage_svg": mark_safe(page.coverage_svg),  # noqa: S308 - built and escaped by reports.presentation.charts
        "download_url": download_url,
    }
