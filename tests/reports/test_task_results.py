"""django-q2's successful task records: the cluster keeps them all, the daily prune keeps the newest."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Failure, Success, Task
from django_q.tasks import async_task
from pytest_django.fixtures import Settings

from loopmonitor.task_results import task_successes_prune
from tests.reports.conftest import RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


START = timezone.now()


def stored_task(name: str, *, minutes_ago: int, success: bool = True) -> Task:
    stopped = START - timedelta(minutes=minutes_ago)
    return Task.objects.create(
        id=name, name=name, func="reports.tasks.recover_reports", started=stopped, stopped=stopped, success=success
    )


def test_the_monitor_saves_every_success_without_reading_the_others(
    settings: Settings, run_queued_tasks: RunQueuedTasks
) -> None:
    settings.TASK_SUCCESSES_KEPT = 2
    for minutes_ago in (3, 2, 1):
        stored_task(f"earlier-{minutes_ago}", minutes_ago=minutes_ago)
    for n in range(5):
        async_task("operator.add", n, 1, task_name=f"add-{n}")

    with CaptureQueriesContext(connection) as queries:
        assert run_queued_tasks() == 5

    assert sorted(Success.objects.filter(func="operator.add").values_list("result", flat=True)) == [1, 2, 3, 4, 5]
    assert Success.objects.count() == 8
    # django-q2 with a save_limit reads (and on PostgreSQL locks) every stored success after each task.
    task_table = Task._meta.db_table
    reads = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("SELECT") and f'FROM "{task_table}"' in query["sql"]
    ]
    assert reads and all(f'WHERE ("{task_table}"."id" = ' in read for read in reads), reads


def test_the_prune_keeps_the_newest_successes_and_every_failure() -> None:
    for minutes_ago in (50, 40, 30, 20, 10):
        stored_task(f"ok-{minutes_ago}", minutes_ago=minutes_ago)
    stored_task("failed-long-ago", minutes_ago=90, success=False)

    assert task_successes_prune(keep=3) == 2

    assert sorted(Success.objects.values_list("name", flat=True)) == ["ok-10", "ok-20", "ok-30"]
    assert list(Failure.objects.values_list("name", flat=True)) == ["failed-long-ago"]


def test_successes_stopped_with_the_oldest_kept_one_stay_and_zero_keeps_none() -> None:
    for name in ("a", "b", "c"):
        stored_task(name, minutes_ago=5)
    stored_task("older", minutes_ago=6)

    assert task_successes_prune(keep=2) == 1
    assert Success.objects.count() == 3
    assert task_successes_prune(keep=0) == 3
    assert not Success.objects.exists()


def test_fewer_successes_than_kept_lose_nothing() -> None:
    stored_task("only", minutes_ago=1)

    assert task_successes_prune(keep=5) == 0
    assert Success.objects.count() == 1


def test_the_daily_prune_keeps_the_setting_s_number_and_says_how_many_went(settings: Settings) -> None:
    settings.TASK_SUCCESSES_KEPT = 1
    for minutes_ago in (3, 2, 1):
        stored_task(f"ok-{minutes_ago}", minutes_ago=minutes_ago)
    stdout = io.StringIO()

    call_command("prune", stdout=stdout)

    assert list(Success.objects.values_list("name", flat=True)) == ["ok-1"]
    assert "; 0 report(s) and 2 successful task record(s) deleted in " in stdout.getvalue()
