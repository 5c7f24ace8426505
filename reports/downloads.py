"""A complete report's CSV (plain or extended) as a download: one definition for the API and the portal.

Who may download is the caller's check (the scoping function); how a
missing file or an extended CSV that cannot be computed is answered is the
caller's too (JSON for the API, a page for the portal), so this raises
``FileNotFoundError`` and :class:`reports.extended_csv.ExtendedCsvUnavailable`.
"""

from __future__ import annotations

from django.http import FileResponse

from reports.extended_csv import report_extended_csv_file
from reports.models import Report


def report_csv_download(report: Report, *, extended: bool = False) -> FileResponse:
    """The stored CSV (or the extended one) as an attachment named after the report."""
    handle = report_extended_csv_file(report) if extended else report.csv_file.open("rb")
    filename = f"report-{report.id}-extended.csv" if extended else f"report-{report.id}.csv"
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type="text/csv")
    response["X-Report-Status"] = "Complete"
    return response
