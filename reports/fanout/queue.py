"""Queueing a report's work on django-q2: the trigger, and the tasks each step queues for the next."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django_q.tasks import async_task

from organizations.models import Organization
from reports.engine.calendar_periods import PeriodName
from reports.models import Report
from reports.period_services import report_create_period
from reports.services import report_create


class TooManyUnfinished(Exception):
    """``REPORT_MAX_UNFINISHED`` reports are pending or running: come back in ``retry_after`` seconds."""

    def __init__(self, unfinished: int, retry_after: int) -> None:
        super().__init__(f"{unfinished} reports are still being computed; try again in {retry_after} s")
        self.retry_after = retry_after


def refuse_when_busy() -> None:
    """Backpressure before a new report: refuse it while ``REPORT_MAX_UNFINISHED`` are unfinished.

    A soft limit: two triggers at the same instant may both pass the count and
    go one over it; what it bounds is a flood, which it does.
    """
    unfinished = Report.objects.filter(status__in=[Report.Status.PENDING, Report.Status.RUNNING]).count()
    if unfinished >= settings.REPORT_MAX_UNFINISHED:
        raise TooManyUnfinished(unfinished, settings.REPORT_BUSY_RETRY_AFTER_SECONDS)


def queue_shard(shard_id: int) -> None:
    async_task("reports.tasks.run_shard", shard_id, task_name=f"shard-{shard_id}", group="reports")


def queue_plan(report_id: str) -> None:
    async_task("reports.tasks.run_report", report_id, task_name=f"report-{report_id}", group="reports")


def report_trigger(
    *, as_of: datetime | None, requested_by: User | None = None, organization: Organization | None = None
) -> Report:
    """Create a report (its ``now`` fixed now) and queue its plan for a django-q2 worker.

    Who may trigger which report is the caller's check
    (:func:`organizations.scoping.may_trigger`); this only does it, unless the
    service is busy (:class:`TooManyUnfinished`).
    """
    refuse_when_busy()
    report = report_create(as_of=as_of, requested_by=requested_by, organization=organization)
    queue_plan(report.id)
    return report


def report_trigger_period(
    *,
    as_of: datetime | None,
    start: datetime | None = None,
    end: datetime | None = None,
    name: PeriodName | None = None,
    sla_target: Decimal | None = None,
    requested_by: User | None = None,
    organization: Organization | None = None,
) -> Report:
    """Create a period report (``start``/``end``, or a named period relative to its ``now``) and queue its plan.

    Raises :class:`reports.period_services.BadPeriod` for a period a report cannot measure.
    """
    refuse_when_busy()
    report = report_create_period(
        as_of=as_of,
        start=start,
        end=end,
        name=name,
        sla_target=sla_target,
        requested_by=requested_by,
        organization=organization,
    )
    queue_plan(report.id)
    return report
