"""The scheduler's minute: claim the due subscriptions, start their reports, hand finished reports to delivery.

**Claiming.** A due subscription (``next_run_at`` passed) is claimed by one
conditional update that moves ``next_run_at`` to the next send after *now*
and succeeds only if ``next_run_at`` is still what this scheduler read. Two
clusters running the schedule at once both try; exactly one update changes
the row, and only that one creates the :class:`~subscriptions.models.SubscriptionRun`.
Because the next send is counted from now, sends missed while the workers
were down collapse into one run when they come back.

**Runs.** A run is ``pending`` until its period report is triggered (the
trigger may be refused while the service is busy: the next minute tries
again), ``reporting`` until the report finishes, then ``delivering`` (see
:mod:`subscriptions.delivery`) and ``done``. A report that fails fails its
run, with the report's error; nothing is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from reports.fanout.queue import TooManyUnfinished, report_trigger_period
from reports.models import Report
from reports.services import NoPollsError
from subscriptions.cadence import Cadence, period_before
from subscriptions.delivery import deliveries_retry_due, run_deliver, run_fail
from subscriptions.models import Subscription, SubscriptionRun
from subscriptions.queue import queue_run_delivery
from subscriptions.services import next_run_of

logger = logging.getLogger(__name__)

#: A run claimed for starting but without its report after this long was abandoned by a dead scheduler.
START_LEASE = timedelta(minutes=5)


def run_create(subscription: Subscription, *, trigger: str, due_at: datetime, now: datetime) -> SubscriptionRun:
    """A pending run of the period before ``now`` in the subscription's zone."""
    start, end = period_before(Cadence(subscription.cadence), now, ZoneInfo(subscription.timezone))
    return SubscriptionRun.objects.create(
        subscription=subscription, trigger=trigger, due_at=due_at, start=start, end=end
    )


def subscriptions_claim_due(now: datetime) -> list[SubscriptionRun]:
    """One run per subscription due at ``now`` that this caller won the claim of."""
    runs = []
    for subscription in Subscription.objects.filter(next_run_at__lte=now).order_by("next_run_at", "id"):
        due_at = subscription.next_run_at
        with transaction.atomic():
            won = Subscription.objects.filter(id=subscription.id, next_run_at=due_at).update(
                next_run_at=next_run_of(subscription, now)
            )
            if won:
                runs.append(run_create(subscription, trigger=SubscriptionRun.Trigger.SCHEDULE, due_at=due_at, now=now))
    return runs


def run_start(run: SubscriptionRun) -> bool:
    """Trigger the run's period report, unless the service is busy; ``True`` once it is started.

    The claim is the move from ``pending`` to ``reporting``, so a run is started once; a refused trigger
    puts it back to ``pending`` for the next minute. The trigger runs outside any transaction: the
    report's plan reads it from another connection.
    """
    subscription = run.subscription
    if not SubscriptionRun.objects.filter(id=run.id, status=SubscriptionRun.Status.PENDING).update(
        status=SubscriptionRun.Status.REPORTING, claimed_at=timezone.now()
    ):
        return False
    try:
        report = report_trigger_period(
            as_of=None,
            start=run.start,
            end=run.end,
            sla_target=subscription.sla_target,
            organization=subscription.organization,
        ).report  # an equal report on unchanged data (another subscription's, an owner's) is reused
    except NoPollsError as error:
        run_fail(run.id, f"its report could not be started: {error}")
        return False
    except TooManyUnfinished as busy:
        logger.info("run %s of subscription %s waits: %s", run.id, subscription.id, busy)
        SubscriptionRun.objects.filter(id=run.id).update(status=SubscriptionRun.Status.PENDING, claimed_at=None)
        return False
    except Exception as error:
        run_fail(run.id, f"its report could not be started: {type(error).__name__}")
        raise
    SubscriptionRun.objects.filter(id=run.id).update(report=report)
    report.refresh_from_db(fields=["status"])
    if report.is_finished:  # it finished before the run pointed at it, so its signal found no run to deliver
        queue_run_delivery(run.id)
    run.refresh_from_db()
    return True


def runs_release_abandoned(now: datetime) -> int:
    """Runs claimed for starting whose scheduler died before the report existed: ``pending`` again."""
    return SubscriptionRun.objects.filter(
        status=SubscriptionRun.Status.REPORTING, report__isnull=True, claimed_at__lt=now - START_LEASE
    ).update(status=SubscriptionRun.Status.PENDING, claimed_at=None)


@dataclass(frozen=True, slots=True)
class Minute:
    """What one scheduler minute did, for its task result and the log."""

    claimed: int
    started: int
    finished_reports: int
    retried: int

    def summary(self) -> str:
        return (
            f"{self.claimed} runs due, {self.started} reports started, {self.finished_reports} runs delivered or "
            f"failed, {self.retried} retries sent"
        )


def scheduler_minute(now: datetime | None = None) -> Minute:
    """Everything the every-minute schedule does, in order; safe to run in several clusters at once."""
    now = now or timezone.now()
    claimed = subscriptions_claim_due(now)
    runs_release_abandoned(now)
    started = sum(
        run_start(run)
        for run in SubscriptionRun.objects.filter(status=SubscriptionRun.Status.PENDING).select_related(
            "subscription__organization"
        )
    )
    finished = 0
    for run in SubscriptionRun.objects.filter(
        status=SubscriptionRun.Status.REPORTING, report__status__in=[Report.Status.COMPLETE, Report.Status.FAILED]
    ):
        finished += run_deliver(run.id)
    return Minute(len(claimed), started, finished, deliveries_retry_due(now))
