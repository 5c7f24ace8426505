"""Queueing a report's work on django-q2: the trigger, and the tasks each step queues for the next."""

from __future__ import annotations

from collections.abc import Callable
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
from stores.data_version import data_version_for_trigger


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
    return _trigger(
        TriggerInputs(Report.Kind.FIXED, now, None, None, None, organization),
        requested_by=requested_by,
        fresh=fresh,
        create=lambda version: report_create(
            as_of=now, requested_by=requested_by, organization=organization, data_version=version
        ),
    )


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
    return _trigger(
        TriggerInputs(Report.Kind.PERIOD, now, period.start, period.end, period.sla_target, organization),
        requested_by=requested_by,
        fresh=fresh,
        create=lambda version: report_create_period(
            as_of=now,
            start=period.start,
            end=period.end,
            sla_target=period.sla_target,
            requested_by=requested_by,
            organization=organization,
            data_version=version,
        ),
    )


@dataclass(frozen=True, slots=True)
class TriggerInputs:
    """Everything but the data that a report's numbers follow from, as resolved at the trigger."""

    kind: str
    now: datetime
    start: datetime | None
    end: datetime | None
    sla_target: Decimal | None
    organization: Organization | None


def _trigger(
    inputs: TriggerInputs, *, requested_by: User | None, fresh: bool, create: Callable[[int], Report]
) -> Triggered:
    """The equal report on this data version if there is one (and not ``fresh``), else a new one, queued.

    One transaction holding the triggers' lock (:func:`stores.data_version.data_version_for_trigger`):
    two equal triggers run one after the other, and the second finds the first's report. The plan is
    queued after the commit, so a worker never looks for a report that is not there yet.
    """
    with transaction.atomic():
        version = data_version_for_trigger()
        equal = (
            None
            if fresh
            else report_equal_to_trigger(
                requested_by,
                kind=inputs.kind,
                as_of=inputs.now,
                start=inputs.start,
                end=inputs.end,
                sla_target=inputs.sla_target,
                organization_id=inputs.organization.pk if inputs.organization is not None else None,
                data_version=version,
            )
        )
        if equal is not None:
            return Triggered(equal, reused=True)
        refuse_when_busy()
        report = create(version)
    queue_plan(report.id)
    return Triggered(report, reused=False)
