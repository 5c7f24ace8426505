"""The extended CSV of a report: the report's columns, then uptime %, outages, longest outage and no data per window.

Asked for with ``?columns=extended``; the default CSV is untouched (it is the
stored file, byte for byte what ``build_report`` writes).

**When it is computed.** Once, by a django-q2 worker: assembly queues
:func:`report_extended_csv_store` as soon as the report is Complete, and it
stores the file beside the report's CSV (``Report.extended_csv_file``), so a
download (and a HEAD) is a file read: 2-4 ms at 1x (13.6k stores, 1.8M
polls, PostgreSQL), where computing it in the request took 3.6-3.9 s. It
costs the worker about as much as the report itself. A report with no stored extended CSV
(completed before this existed, or downloaded in the seconds before the
worker's task is done) computes it on its first download and stores it for
the next ones.

It is computed from the report's own snapshot (:mod:`reports.snapshot`: the
stores, hours and zones planned, and only the polls it read), through
:func:`reports.engine.intervals.store_timeline` -- the same stretches the report
measured. The first seven columns are recomputed too and must equal the
stored CSV row for row; if they do not (a poll the report read was changed
or deleted since, or a store deleted), :class:`ReportDataChanged` is raised
and nothing is stored, instead of serving numbers that disagree with the
report. The file is written to a temporary file first, so a refusal is never
a half-stored or half-sent CSV. ``cleanup_reports`` deletes it with the
report.

**The extra columns**, per window (hour, day, week):

* ``uptime_percent_last_*``: uptime / (uptime + downtime) x 100, rounded half
  up to 2 decimals; empty when the window holds no observed business time
  (the percentage is undefined, not 0).
* ``outages_last_*``: how many outages reach into the window. An outage is a
  contiguous stretch of downtime within business hours; closing time ends
  it (see :mod:`reports.engine.intervals`).
* ``longest_outage_last_*``: the longest of them, counting only its part inside
  the window (so the parts add up to the window's downtime); minutes for the
  last hour, hours for the day and week, as the downtime columns; ``0.00``
  with no outage.
* ``no_data_last_*``: business time in the window further than R = 1 h from
  every observation of the week (SEMANTICS v2, "Coverage"; rule 9 of
  :mod:`reports.engine.period`): minutes for the last hour, hours for the day
  and week. Beside uptime and downtime, never subtracted from them.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import IO

from django.core.files import File
from django_q.tasks import async_task

from reports.engine.csv_row import HEADER, NotAReportCsv, read_report_csv, report_row, round_half_up
from reports.engine.period import no_data_by_window
from reports.engine.units import WINDOWS, Instant, Window, to_instant
from reports.models import Report
from reports.outages import WindowTotals, store_week, window_totals
from reports.services import consistent_read
from reports.snapshot import report_store_inputs

EXTENDED_HEADER = (
    *HEADER,
    *(f"uptime_percent_{window.name}" for window in WINDOWS),
    *(f"outages_{window.name}" for window in WINDOWS),
    *(f"longest_outage_{window.name}" for window in WINDOWS),
    *(f"no_data_{window.name}" for window in WINDOWS),
)
logger = logging.getLogger(__name__)


class ExtendedCsvUnavailable(Exception):
    """The extended CSV of this report cannot be computed; the message says why."""


class ReportDataChanged(ExtendedCsvUnavailable):
    """Recomputing the report from its snapshot no longer gives its stored rows."""


def _percent(totals: WindowTotals) -> str:
    percent = totals.uptime_percent
    return "" if percent is None else round_half_up(Fraction(percent), 1)


def extended_columns(totals: list[WindowTotals], no_data: dict[Window, Fraction]) -> tuple[str, ...]:
    """The twelve extra cells of one row, in :data:`EXTENDED_HEADER` order."""
    return (
        *(_percent(window) for window in totals),
        *(str(window.outages) for window in totals),
        *(round_half_up(window.longest_outage_seconds, window.window.unit.seconds) for window in totals),
        *(round_half_up(no_data[window], window.unit.seconds) for window in WINDOWS),
    )


def _extended_rows(report: Report, now_us: Instant) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``(report row, extra cells)`` per store, in the stored CSV's order."""
    assert report.as_of is not None
    for inputs in report_store_inputs(report):
        week = store_week(inputs, report.as_of)
        no_data = no_data_by_window(week.timeline.observations, week.business, now_us)
        yield (
            report_row(inputs.store_id, week.timeline.uptime),
            extended_columns(window_totals(week.timeline, now_us), no_data),
        )


def report_write_extended_csv(*, report: Report, out: IO[str]) -> int:
    """Write the extended CSV of a complete report to ``out``; returns the number of rows.

    Raises :class:`ReportDataChanged` when a recomputed row differs from the stored one,
    :class:`ExtendedCsvUnavailable` for a report without ``as_of``, and
    ``FileNotFoundError`` when the stored CSV is gone.
    """
    if report.as_of is None:
        raise ExtendedCsvUnavailable("the report has no as_of")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXTENDED_HEADER)
    rows = 0
    with report.csv_file.open("rb") as stored_file, consistent_read():
        try:
            stored = read_report_csv(stored_file)
        except NotAReportCsv as error:
            raise ReportDataChanged(str(error)) from None
        for row, extra in _extended_rows(report, to_instant(report.as_of)):
            expected = next(stored, ())
            if row != expected:
                raise ReportDataChanged(
                    f"store {row[0]}: the report's data changed since it ran (stored {','.join(expected)!r}, "
                    f"now {','.join(row)!r})"
                )
            writer.writerow((*row, *extra))
            rows += 1
        leftover = next(stored, None)
        if leftover is not None:
            raise ReportDataChanged(f"store {leftover[0]} has a stored row but is no longer in the report's data")
    return rows


def _write_to_storage(report: Report) -> None:
    """Compute the extended CSV and store it as the report's ``extended_csv_file``, unless another process did first."""
    with tempfile.TemporaryFile() as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        report_write_extended_csv(report=report, out=text)
        text.flush()
        text.detach()
        binary.seek(0)
        report.extended_csv_file.save(f"report-{report.id}-extended.csv", File(binary), save=False)
    name = str(report.extended_csv_file.name)
    if not Report.objects.filter(id=report.id, extended_csv_file="").update(extended_csv_file=name):
        report.extended_csv_file.storage.delete(name)  # a worker or another download stored it meanwhile
        report.refresh_from_db(fields=["extended_csv_file"])


def report_extended_csv_queue(*, report_id: str) -> None:
    """Have a worker compute and store the extended CSV of a report that just completed."""
    async_task("reports.tasks.store_extended_csv", report_id, task_name=f"extended-{report_id}", group="reports")


def report_extended_csv_store(*, report_id: str) -> None:
    """The worker's task: store the extended CSV of a complete report, once.

    A report whose data changed before this ran gets no stored file; its
    downloads then answer why, as :func:`report_extended_csv_file` does.
    """
    report = Report.objects.filter(id=report_id, status=Report.Status.COMPLETE).first()
    if report is None or report.extended_csv_file:
        return
    started = time.perf_counter()
    try:
        _write_to_storage(report)
    except ExtendedCsvUnavailable as error:
        logger.warning("report %s: no extended CSV stored: %s", report_id, error)
        return
    logger.info("report %s: extended CSV stored in %.1f s", report_id, time.perf_counter() - started)


def report_extended_csv_file(report: Report) -> IO[bytes]:
    """The extended CSV of a complete report, opened for reading: the stored file, stored first if missing.

    Raises :class:`ExtendedCsvUnavailable` when it cannot be computed, and
    ``FileNotFoundError`` when the stored CSV (or extended CSV) is gone.
    """
    if not report.extended_csv_file:
        _write_to_storage(report)
    return report.extended_csv_file.open("rb")
