"""Recovery: abandoned claims are queued again; reports past their attempts or deadline end Failed with the reason."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from reports.fanout import queue
from reports.fanout.assembly import report_assemble
from reports.fanout.claims import abandoned_plan, lease, recovery_interval, report_fail, stale_claim
from reports.models import Report, ReportShard

logger = logging.getLogger(__name__)


def report_recover(report: Report) -> Report:
    """Queue again whatever a dead worker left behind; fail what cannot finish. Cheap enough per poll.

    At most once per :func:`recovery_interval` per report (a conditional
    update), so a client polling every second does not flood the queue, yet
    a claim abandoned by a dead worker is found soon after its lease ran out.
    """
    if report.is_finished:
        return report
    now = timezone.now()
    held, every = lease(), recovery_interval()
    if now - report.created_at > timedelta(seconds=settings.REPORT_DEADLINE_SECONDS):
        report_fail(report.id, f"the report did not finish within {settings.REPORT_DEADLINE_SECONDS} s")
    elif report.status == Report.Status.PENDING and report.created_at >= now - held:
        return report  # its plan is queued and not overdue: no write that could collide with planning
    elif report.recovered_at is not None and report.recovered_at >= now - every:
        return report  # looked at a moment ago: the common case of a client polling, no query
    elif Report.objects.filter(Q(recovered_at__isnull=True) | Q(recovered_at__lt=now - every), id=report.id).update(
        recovered_at=now
    ):
        _recover_claimed(report, now - held)
    report.refresh_from_db()
    return report


def _recover_claimed(report: Report, stale: datetime) -> None:
    if report.status == Report.Status.PENDING:
        queue.queue_plan(report.id)  # report_recover only gets here once the plan is overdue
        return
    if report.planned_at is None:
        if not Report.objects.filter(abandoned_plan(stale), id=report.id).exists():
            return  # its plan is still writing shards, and renewing its claim
        if report.plan_attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            report_fail(report.id, f"planning was abandoned {report.plan_attempts} times (workers died)")
        else:
            logger.warning("report %s: planning again (attempt %d)", report.id, report.plan_attempts + 1)
            queue.queue_plan(report.id)
        return
    abandoned = report.planned_shards().filter(
        # Pending a lease after the plan finished: its task was lost with the worker that took it.
        Q(status=ReportShard.Status.PENDING, report__planned_at__lt=stale)
        | stale_claim(stale)
        | Q(status=ReportShard.Status.FAILED)
    )
    for shard_id, attempts, error in abandoned.values_list("id", "attempts", "error"):
        if attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            report_fail(report.id, error or f"a shard was abandoned {attempts} times (workers died)")
            return
        logger.warning("report %s: queueing shard %s again (attempt %d)", report.id, shard_id, attempts + 1)
        queue.queue_shard(shard_id)
    if report.shards_done >= report.shards_total:
        report_assemble(report_id=report.id)


def reports_recover_all() -> int:
    """Recovery for every unfinished report; the once-a-minute schedule calls this."""
    unfinished = Report.objects.filter(status__in=[Report.Status.PENDING, Report.Status.RUNNING])
    count = 0
    for report in unfinished.iterator():
        report_recover(report)
        count += 1
    return count
