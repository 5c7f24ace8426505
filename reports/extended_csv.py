"""The extended CSV of a report: the report's columns, then uptime %, outage count and longest outage per window.

Asked for with ``?columns=extended``; the default CSV is untouched (it is the
stored file, byte for byte what ``build_report`` writes).

**When it is computed.** On demand, for a complete report, from the report's
own snapshot (:mod:`reports.snapshot`: the stores, hours and zones planned,
and only the polls it read), through :func:`reports.engine.intervals.store_timeline`
-- the same stretches the report measured. The first seven columns are
recomputed too and must equal the stored CSV row for row; if they do not
(a poll the report read was changed or deleted since, or a store deleted),
:class:`ReportDataChanged` is raised instead of serving numbers that
disagree with the report. Nothing extra is stored, so cleanup stays as it is.
The cost is a report's worth of computing per download, in the web process
(measured: 4.8 s for the real 13.6k stores and 1.8M polls on PostgreSQL,
against 6.8 s for the report itself on one worker); the file is written to a
temporary file first, so a refusal is never a half-sent CSV.

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
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from typing import IO

from reports.engine.csv_row import HEADER, report_row, round_half_up
from reports.engine.units import WINDOWS, Instant, to_instant
from reports.models import Report
from reports.outages import WindowTotals, store_week, window_totals
from reports.services import read_snapshot
from reports.snapshot import report_store_inputs

EXTENDED_HEADER = (
    *HEADER,
    *(f"uptime_percent_{window.name}" for window in WINDOWS),
    *(f"outages_{window.name}" for window in WINDOWS),
    *(f"longest_outage_{window.name}" for window in WINDOWS),
)


class ExtendedCsvUnavailable(Exception):
    """The extended CSV of this report cannot be computed; the message says why."""


class ReportDataChanged(ExtendedCsvUnavailable):
    """Recomputing the report from its snapshot no longer gives its stored rows."""


def _percent(totals: WindowTotals) -> str:
    percent = totals.uptime_percent
    return "" if percent is None else round_half_up(Fraction(percent), 1)


def extended_columns(totals: list[WindowTotals]) -> tuple[str, ...]:
    """The nine extra cells of one row, in :data:`EXTENDED_HEADER` order."""
    return (
        *(_percent(window) for window in totals),
        *(str(window.outages) for window in totals),
        *(round_half_up(window.longest_outage_seconds, window.window.unit.seconds) for window in totals),
    )


def _extended_rows(report: Report, now_us: Instant) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``(report row, extra cells)`` per store, in the stored CSV's order."""
    assert report.as_of is not None
    for inputs in report_store_inputs(report):
        week = store_week(inputs, report.as_of)
        yield report_row(inputs.store_id, week.timeline.uptime), extended_columns(window_totals(week.timeline, now_us))


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
    with report.csv_file.open("rb") as stored_file, read_snapshot():
        stored = csv.reader(line.decode("utf-8") for line in stored_file)
        if tuple(next(stored, ())) != HEADER:
            raise ReportDataChanged("the stored CSV does not start with the report header")
        for row, extra in _extended_rows(report, to_instant(report.as_of)):
            expected = tuple(next(stored, ()))
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


def report_extended_csv_file(report: Report) -> IO[bytes]:
    """The extended CSV in a temporary file, rewound: complete before anything is sent.

    Raises :class:`ExtendedCsvUnavailable` or ``FileNotFoundError`` as
    :func:`report_write_extended_csv` does; the file is closed then.
    """
    binary = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; the response closes it
    try:
        text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        report_write_extended_csv(report=report, out=text)
        text.flush()
        text.detach()
    except BaseException:
        binary.close()
        raise
    binary.seek(0)
    return binary
