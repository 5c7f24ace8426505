"""Assembly: once every planned shard is complete, the header and the shards' rows in order.

Byte for byte the CSV ``build_report`` writes.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile

from django.core.files import File
from django.db.models import F, Q
from django.utils import timezone

from reports.extended_csv import report_extended_csv_queue
from reports.fanout.claims import heartbeat, lease, report_fail
from reports.models import Report, ReportShard
from reports.period_services import report_header
from reports.signals import report_finished

logger = logging.getLogger(__name__)


class AssemblyRefused(Exception):
    """The shards do not add up to the report planned: assembling would write a CSV with stores missing."""


def report_assemble(*, report_id: str) -> None:
    """Once every shard is complete: write the CSV and mark the report Complete, exactly once.

    The shard counter only says when to try. Before the report is Complete,
    every planned shard must be complete and the CSV must have one row per
    store planned; otherwise the assembly is released (a shard still to
    finish tries again) and, if the rows are wrong although every shard is
    complete, the report ends Failed with the reason rather than Complete
    with stores missing.
    """
    now = timezone.now()
    assembling = Report.objects.filter(id=report_id, status=Report.Status.RUNNING)
    claimed = assembling.filter(
        Q(assembling_since__isnull=True) | Q(assembling_since__lt=now - lease()),
        planned_at__isnull=False,
        shards_done__gte=F("shards_total"),
    ).update(assembling_since=now)
    if not claimed:
        return
    report = Report.objects.get(id=report_id)
    try:
        with heartbeat(lambda: assembling.update(assembling_since=timezone.now()), f"assembly of report {report_id}"):
            _write_csv(report)
    except AssemblyRefused as refused:
        assembling.update(assembling_since=None)
        if report.planned_shards().exclude(status=ReportShard.Status.COMPLETE).exists():
            logger.error("report %s: not assembled: %s", report_id, refused)
            return
        logger.error("report %s: assembly refused although every shard is complete: %s", report_id, refused)
        report_fail(report_id, f"assembly refused: {refused}", plan_attempt=report.plan_attempts)
        return
    completed = assembling.update(
        status=Report.Status.COMPLETE,
        csv_file=report.csv_file.name,
        rows=report.stores_total,
        finished_at=timezone.now(),
    )
    logger.info("report %s complete: %d rows", report_id, report.stores_total)
    if completed:
        report_finished.send(sender=Report, report_id=report_id, status=Report.Status.COMPLETE)
    if not report.is_period:  # the extended CSV adds columns to the fixed windows
        report_extended_csv_queue(report_id=report_id)


def _write_csv(report: Report) -> None:
    """Store the report's CSV (header, then each planned shard's rows in order); refused unless it is whole."""
    shards = report.planned_shards()
    complete = shards.filter(status=ReportShard.Status.COMPLETE)
    if complete.count() != report.shards_total or shards.count() != report.shards_total:
        raise AssemblyRefused(f"{complete.count()} of {report.shards_total} planned shards are complete")
    rows = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerow(report_header(report))
        for rows_csv in complete.values_list("rows_csv", flat=True).iterator():
            rows += sum(1 for _ in csv.reader(io.StringIO(rows_csv)))
            out.write(rows_csv)
        if rows != report.stores_total:
            raise AssemblyRefused(f"the shards hold {rows} rows for {report.stores_total} stores planned")
        out.seek(0)
        report.csv_file.save(f"report-{report.id}.csv", File(out), save=False)
