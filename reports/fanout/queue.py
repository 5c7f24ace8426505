"""Queueing a report's work on django-q2: the trigger, and the tasks each step queues for the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django_q.tasks import async_task

from organizations.models import Organization
from reports.engine.calendar_periods import PeriodName
from reports.models import Report
from reports.period_services import period_resolve, report_create_period
from reports.selectors import report_equal_to_trigger
from reports.services import report_create, report_now
from stores.data_version import data_version_locked


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


@dataclass(frozen=True, slots=True)
class Triggered:
    """What a trigger did: queued a new ``report``, or (``reused``) found an equal one and started nothing."""

    report: Report
    reused: bool


def report_trigger(
    *,
    as_of: datetime | None,
    requested_by: User | None = None,
    organization: Organization | None = None,
    fresh: bool = False,
) -> Triggered:
    """Create a report (its ``now`` fixed now) and queue its plan for a django-q2 worker, unless one equal exists.

    Equal (:func:`reports.selectors.report_equal_to_trigger`): the same
    scope and ``now`` on unchanged data, unfinished or complete; it is
    returned as it is, before the backpressure check, since it costs
    nothing. Who may trigger which report is the caller's check
    (:func:`organizations.scoping.may_trigger`); this only does it, unless the
    service is busy (:class:`TooManyUnfinished`). ``fresh``: compute anew even
    when an equal report exists (benchmarks, an operator's recompute).
    """
    now = report_now(as_of)
    with transaction.atomic():
        version = data_version_locked()
        equal = (
            None
            if fresh
            else report_equal_to_trigger(
                requested_by,
                kind=Report.Kind.FIXED,
                as_of=now,
                start=None,
                end=None,
                sla_target=None,
                organization_id=organization.pk if organization is not None else None,
                data_version=version,
            )
        )
        if equal is not None:
            return Triggered(equal, reused=True)
        refuse_when_busy()
        report = report_create(as_of=now, requested_by=requested_by, organization=organization, data_version=version)
    queue_plan(report.id)
    return Triggered(report, reused=False)


def report_trigger_period(
    *,
    as_of: datetime | None,
    start: datetime | None = None,
    end: datetime | None = None,
    name: PeriodName | None = None,
    sla_target: Decimal | None = None,
    requested_by: User | None = None,
    organization: Organization | None = None,
    fresh: bool = False,
) -> Triggered:
    """Create a period report (``start``/``end``, or a named period relative to its ``now``) and queue its plan.

    Unless an equal one exists, as for :func:`report_trigger`: the same
    scope, ``now``, resolved period and SLA target on unchanged data (and ``fresh`` as there).
    Raises :class:`reports.period_services.BadPeriod` for a period a report cannot measure.
    """
    now = report_now(as_of)
    period = period_resolve(now=now, start=start, end=end, name=name, sla_target=sla_target, organization=organization)
    with transaction.atomic():
        version = data_version_locked()
        equal = (
            None
            if fresh
            else report_equal_to_trigger(
                requested_by,
                kind=Report.Kind.PERIOD,
                as_of=now,
                start=period.start,
                end=period.end,
                sla_target=period.sla_target,
                organization_id=organization.pk if organization is not None else None,
                data_version=version,
            )
        )
        if equal is not None:
            return Triggered(equal, reused=True)
        refuse_when_busy()
        report = report_create_period(
            as_of=now,
            start=period.start,
            end=period.end,
            sla_target=period.sla_target,
            requested_by=requested_by,
            organization=organization,
            data_version=version,
        )
    queue_plan(report.id)
    return Triggered(report, reused=False)
