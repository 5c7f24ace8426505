"""What a report's page and a store's week page show, built once for the admin and the owner portal.

Both sites render the same sections (``templates/reports/_overview.html`` and
``templates/reports/_store_week.html``) from the contexts built here; each
site adds only its own frame (breadcrumbs, links to its own URLs), which it
passes in as functions. Charts are inline SVG from
:mod:`reports.presentation.charts`: no script, nothing fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.admin.utils import quote, unquote
from django.utils.safestring import mark_safe

from reports.engine.csv_row import NotAReportCsv, report_row, round_half_up
from reports.engine.units import WEEK, instant_delta
from reports.models import Report
from reports.outages import WindowTotals, store_week_in_report, window_totals
from reports.presentation.charts import Bar, histogram_svg, week_timeline_svg
from reports.presentation.durations import duration_text
from reports.presentation.overview import report_csv_row, report_overview
from reports.presentation.store_week import outage_records, timeline_days

WORST_STORES = 20
FIRST_ROWS = 20

#: A store id that is nothing but dots would be a ``.`` or ``..`` path segment, which a browser resolves away.
_DOTS_ONLY = re.compile(r"\.+")
_QUOTED_DOTS = re.compile(r"(?:_2E)+")


def store_url_segment(store_id: str) -> str:
    """The store id as one path segment, quoted as the admin quotes a primary key (``/`` is ``_2F``, ...).

    ``reverse`` alone percent-encodes but keeps ``/`` and dot segments, so a
    link to ``a/../b`` led a browser to store ``b``. A dots-only id is
    written as ``_2E`` per dot; no quoted id looks like that (``_`` is quoted).
    """
    if _DOTS_ONLY.fullmatch(store_id):
        return "_2E" * len(store_id)
    return quote(store_id)


def store_id_from_url(segment: str) -> str:
    if _QUOTED_DOTS.fullmatch(segment):
        return "." * (len(segment) // 3)
    return unquote(segment)


def report_overview_context(
    report: Report, *, store_url: Callable[[str], str], download_url: str, extended_download_url: str
) -> dict[str, Any]:
    """The overview of a complete report (totals, histogram, worst stores, first rows), or why there is none.

    ``store_url(store_id)`` links a worst store to its week on the calling site.
    """
    try:
        overview = report_overview(report, worst=WORST_STORES, first_rows=FIRST_ROWS)
    except FileNotFoundError:
        return {"report_file_gone": True}
    except NotAReportCsv as error:
        return {"report_file_unreadable": str(error)}
    bars = [
        Bar(
            f"{bucket.label}",
            bucket.stores,
            f"{bucket.stores} stores with weekly uptime {bucket.label} %"
            + (" (100 % included)" if bucket.high == 100 else ""),
        )
        for bucket in overview.buckets
    ]
    histogram = histogram_svg(
        bars,
        chart_id="uptime-histogram",
        title="Stores by weekly uptime",
        description=(
            f"Histogram of {overview.observed_stores} stores by weekly uptime percentage in buckets of 10 "
            f"points; {overview.buckets[-1].stores} stores are at 90 % or more. The table below gives each count."
        ),
        x_label="weekly uptime (% of observed business hours)",
        y_label="stores",
    )
    return {
        "report": report,
        "overview": overview,
        "histogram_svg": mark_safe(histogram),  # noqa: S308 - built and escaped by reports.presentation.charts
        "worst_stores": [(row, store_url(row.store_id)) for row in overview.worst],
        "download_url": download_url,
        "extended_download_url": extended_download_url,
    }


def store_week_context(report: Report, store_id: str) -> dict[str, Any]:
    """A store's week in a report: totals beside the CSV row, the timeline, the outages.

    ``report.as_of`` must be set (a report gets it when triggered).
    """
    if report.as_of is None:
        raise ValueError(f"report {report.id} has no as_of yet")
    week = store_week_in_report(report=report, store_id=store_id)
    context: dict[str, Any] = {
        "report": report,
        "store_id": store_id,
        "week": week,
        # Local time once the store's zone is known (below); UTC for a store without a row.
        "now_local": report.as_of,
        "window_start_local": report.as_of - instant_delta(WEEK),
    }
    csv_row = None
    if report.status == Report.Status.COMPLETE:
        try:
            csv_row = report_csv_row(report, store_id)
        except FileNotFoundError:
            context["report_file_gone"] = True
        except NotAReportCsv as error:
            context["report_file_unreadable"] = str(error)
    if week is not None:
        days = timeline_days(week)
        timeline = week_timeline_svg(
            days,
            chart_id="store-timeline",
            title=f"Store {store_id}: the report's week, day by day",
            description=(
                f"One row per local day ({week.zone.key}), midnight to midnight: business hours, up and down "
                f"stretches as the report derived them, and each poll as a tick. "
                f"{len(week.timeline.outages)} outages; the table below lists each day's numbers."
            ),
        )
        context |= {
            "days": days,
            "windows": window_rows(window_totals(week.timeline, week.now_us), csv_row),
            "outages": outage_records(week),
            "timeline_svg": mark_safe(timeline),  # noqa: S308 - built and escaped by reports.presentation.charts
            "now_local": week.local(week.now_us),
            "window_start_local": week.local(week.now_us - WEEK),
            "csv_row": csv_row,
            "csv_matches": csv_row is None or csv_row == report_row(store_id, week.timeline.uptime),
        }
    return context


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One window of the store page's totals table, in the CSV's units and rounding."""

    window: str
    unit: str
    uptime: str
    downtime: str
    csv_uptime: str
    csv_downtime: str
    uptime_percent: str
    outages: int
    longest_outage: str


def window_rows(totals: list[WindowTotals], csv_row: tuple[str, ...] | None) -> list[WindowRow]:
    """The engine's numbers, rounded as the CSV rounds them, beside the stored CSV's cells."""
    rows = []
    for index, window in enumerate(totals):
        unit = window.window.unit
        percent = window.uptime_percent
        rows.append(
            WindowRow(
                window=window.window.name.replace("_", " "),
                unit=unit.symbol,
                uptime=round_half_up(window.uptime_seconds, unit.seconds),
                downtime=round_half_up(window.downtime_seconds, unit.seconds),
                csv_uptime=csv_row[1 + index] if csv_row else "—",
                csv_downtime=csv_row[4 + index] if csv_row else "—",
                uptime_percent="—" if percent is None else round_half_up(percent, 1) + " %",
                outages=window.outages,
                longest_outage=duration_text(window.longest_outage_seconds) if window.outages else "—",
            )
        )
    return rows
