"""The every-minute schedule: claimed once however many schedulers run, missed sends sent once, busy and failed reports.

The first test runs the whole path as a cluster does: django-q2's scheduler
queues the schedule the migration made, and django-q2's worker runs it and
every task it leads to (the report's plan, its shard, the delivery).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import django_q.scheduler
import pytest
from django.db import connection, connections
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler
from pytest_django.fixtures import Settings

from reports.models import Report
from subscriptions.models import Delivery, Subscription, SubscriptionRun
from subscriptions.scheduling import scheduler_minute, subscriptions_claim_due
from subscriptions.services import subscription_create
from tests.reports.conftest import RunQueuedTasks
from tests.subscriptions.conftest import Owners, WebhookReceiver, signature_valid


def due_subscription(owners: Owners, url: str, *, late: timedelta = timedelta(minutes=1)) -> tuple[Subscription, str]:
    created = subscription_create(organization=owners.alpha, cadence="daily", send_hour=7, webhook_url=url)
    Subscription.objects.filter(id=created.subscription.id).update(next_run_at=timezone.now() - late)
    created.subscription.refresh_from_db()
    return created.subscription, created.webhook_secret


@pytest.mark.django_db(databases=["default", "reader"])
def test_the_migrations_schedule_runs_every_minute_and_a_worker_delivers_a_due_subscription(
    owners: Owners, webhook_receiver: WebhookReceiver, run_queued_tasks: RunQueuedTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As run_queued_tasks does for the worker: the connections the scheduler would close are the test's own.
    monkeypatch.setattr(django_q.scheduler, "close_old_django_connections", lambda: None)
    schedule = Schedule.objects.get(func="subscriptions.tasks.deliver_due")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    subscription, secret = due_subscription(owners, webhook_receiver.url)
    Schedule.objects.filter(id=schedule.id).update(next_run=timezone.now() - timedelta(seconds=1))

    scheduler(broker=get_broker())
    ran = run_queued_tasks()

    assert ran >= 4  # the minute, the report's plan and shard, the run's delivery
    run = SubscriptionRun.objects.get()
    assert (run.trigger, run.status) == ("schedule", "done")
    assert Report.objects.get().status == Report.Status.COMPLETE
    [received] = webhook_receiver.received
    assert signature_valid(secret, received.headers, received.body) == [True]
    subscription.refresh_from_db()
    assert subscription.next_run_at > timezone.now()


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_two_schedulers_at_once_claim_each_due_subscription_exactly_once(owners: Owners, settings: Settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    subscriptions = [due_subscription(owners, "http://127.0.0.1:9/hook")[0] for _ in range(12)]
    now = timezone.now()
    start = threading.Barrier(2)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def one_scheduler() -> None:
        try:
            start.wait()
            claimed.append([run.id for run in subscriptions_claim_due(now)])
        except BaseException as error:  # reported below, with the test's failure
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(len(ids) for ids in claimed) == len(subscriptions)
    runs_per_subscription = [SubscriptionRun.objects.filter(subscription=s).count() for s in subscriptions]
    assert runs_per_subscription == [1] * len(subscriptions), connection.vendor
    assert not Subscription.objects.filter(next_run_at__lte=now).exists()


@pytest.mark.django_db(databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_sends_missed_while_the_workers_were_down_are_sent_once(
    owners: Owners, webhook_receiver: WebhookReceiver
) -> None:
    subscription, _ = due_subscription(owners, webhook_receiver.url, late=timedelta(days=3, hours=2))

    scheduler_minute()
    scheduler_minute()

    assert SubscriptionRun.objects.count() == 1 and len(webhook_receiver.received) == 1
    run = SubscriptionRun.objects.get()
    assert run.end == owners.yesterday[1]  # the last complete day before now, not the one before the missed send
    subscription.refresh_from_db()
    assert timezone.now() < subscription.next_run_at <= timezone.now() + timedelta(days=1)


@pytest.mark.django_db(databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_a_run_waits_while_the_service_is_busy_and_starts_at_a_later_minute(
    owners: Owners, webhook_receiver: WebhookReceiver, settings: Settings
) -> None:
    due_subscription(owners, webhook_receiver.url)
    settings.REPORT_MAX_UNFINISHED = 0

    scheduler_minute()

    run = SubscriptionRun.objects.get()
    assert (run.status, run.report_id) == ("pending", None) and webhook_receiver.received == []
    settings.REPORT_MAX_UNFINISHED = 20
    scheduler_minute()
    run.refresh_from_db()
    assert run.status == "done" and len(webhook_receiver.received) == 1


@pytest.mark.django_db(databases=["default", "reader"])
def test_a_failed_report_fails_its_run_and_sends_nothing(
    owners: Owners, webhook_receiver: WebhookReceiver, run_queued_tasks: RunQueuedTasks
) -> None:
    due_subscription(owners, webhook_receiver.url)
    scheduler_minute()
    run = SubscriptionRun.objects.get()
    assert run.status == "reporting" and run.report is not None
    Report.objects.filter(id=run.report.id).update(status=Report.Status.FAILED, error="planning failed: the test")

    scheduler_minute()

    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "its report failed: planning failed: the test")
    assert not Delivery.objects.exists() and webhook_receiver.received == []


@pytest.mark.django_db(databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_two_subscriptions_of_one_period_share_one_report_on_unchanged_data(
    owners: Owners, webhook_receiver: WebhookReceiver
) -> None:
    due_subscription(owners, webhook_receiver.url)
    due_subscription(owners, webhook_receiver.url)

    scheduler_minute()

    runs = list(SubscriptionRun.objects.all())
    assert [run.status for run in runs] == ["done", "done"]
    assert runs[0].report_id == runs[1].report_id and Report.objects.count() == 1
    assert len(webhook_receiver.received) == 2
