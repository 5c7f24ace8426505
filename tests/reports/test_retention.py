"""Retention: polls counted back from the newest poll, never those a running report reads; old reports go."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django_q.models import Schedule
from rest_framework.test import APIClient

from reports.models import Report
from reports.retention import data_prune
from stores.models import Poll
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import CSV_AT_NOW, NOW, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def poll_times() -> list[datetime]:
    return sorted(Poll.objects.values_list("timestamp_utc", flat=True))


def test_polls_older_than_the_retention_before_the_newest_poll_are_deleted_whatever_the_clock() -> None:
    store = StoreFactory(id="s")
    for days in (0, 10, 34, 36, 50):
        PollFactory(store=store, timestamp_utc=NOW - timedelta(days=days))
    stdout = io.StringIO()

    call_command("prune", stdout=stdout)  # the default, 35 days: NOW is years before today's clock

    assert poll_times() == [NOW - timedelta(days=days) for days in (34, 10, 0)]
    assert stdout.getvalue().startswith(
        "2 poll(s) before 2022-12-21 12:00:00 UTC deleted; 0 report(s) and 0 successful task record(s) deleted"
    )


def test_the_command_takes_overrides_for_both_retentions() -> None:
    store = StoreFactory(id="s")
    for days in (0, 2, 4):
        PollFactory(store=store, timestamp_utc=NOW - timedelta(days=days))
    old = Report.objects.create(as_of=NOW, status=Report.Status.COMPLETE)
    Report.objects.filter(id=old.id).update(created_at=old.created_at - timedelta(days=3))

    call_command("prune", "--poll-days", "3", "--report-days", "2", stdout=io.StringIO())

    assert poll_times() == [NOW - timedelta(days=2), NOW]
    assert not Report.objects.exists()


def test_many_slices_delete_the_same_polls_as_one() -> None:
    for n in range(7):
        store = StoreFactory(id=f"store-{n}")
        for days in (0, 3, 9):
            PollFactory(store=store, timestamp_utc=NOW - timedelta(days=days, minutes=n))

    from reports.retention import polls_delete_older_than

    cutoff, deleted = polls_delete_older_than(days=5, per_slice=2)

    assert (cutoff, deleted) == (NOW - timedelta(days=5), 7)
    assert Poll.objects.count() == 14


def test_an_unfinished_report_keeps_the_week_before_its_as_of() -> None:
    store = StoreFactory(id="s")
    for days in (0, 5, 8, 20):
        PollFactory(store=store, timestamp_utc=NOW - timedelta(days=days))
    Report.objects.create(as_of=NOW - timedelta(days=3), status=Report.Status.RUNNING)

    result = data_prune(poll_days=1)

    # The report reads [NOW - 10 days, NOW - 3 days]: the poll 8 days back stays, the one 20 days back goes.
    assert poll_times() == [NOW - timedelta(days=days) for days in (8, 5, 0)]
    assert result.polls_deleted == 1


def test_the_retention_schedule_is_created_by_a_migration() -> None:
    schedule = Schedule.objects.get(func="reports.tasks.prune_old_data")
    assert schedule.schedule_type == "D"


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_prune_while_a_report_runs_leaves_the_report_correct(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks
) -> None:
    old = StoreFactory(id="old-store")
    for days in (40, 60):
        PollFactory(store=old, timestamp_utc=NOW - timedelta(days=days))
    before = Poll.objects.count()
    report_id = api_client.post("/trigger_report").json()["report_id"]
    pruned: list[int] = []

    def prune_between_tasks() -> None:
        # After the plan (and after each shard): the report is running; prune as hard as possible.
        pruned.append(data_prune(poll_days=0, report_days=30).polls_deleted)

    run_queued_tasks(after_each=prune_between_tasks)
    report = api_client.get("/get_report", {"report_id": report_id})

    assert report["X-Report-Status"] == "Complete"
    assert b"".join(report.streaming_content).decode() == CSV_AT_NOW
    assert pruned[0] == 2  # only the polls of the old store, outside the report's week
    # Once the report (and its extended CSV) is finished, nothing holds the week back any more.
    assert Report.objects.get(id=report_id).extended_csv_file
    assert sum(pruned) + Poll.objects.count() == before
    assert Poll.objects.filter(timestamp_utc__lt=NOW).count() == 0
