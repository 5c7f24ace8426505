"""Trigger → django-q2 tasks → poll → CSV, in this process, through the real task code.

Either django-q2's ``sync`` mode runs each task inside ``async_task``
(``q_sync``), or the tasks wait in the ORM broker until ``run_queued_tasks``
hands them to django-q2's worker and monitor, as a cluster would. The tests
look only at what a client sees (the API) and at django-q2's own records, so
they hold however the report is split into tasks. Tests marked
``transaction=True`` run outside any test transaction, as workers do.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django_q.models import Failure, OrmQ, Success
from django_q.tasks import async_task
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

import reports.fanout.shards
from reports.models import Report
from tests.factories import PollFactory
from tests.reports.conftest import CSV_AT_NOW, CSV_TWO_DAYS_AGO, ROW_ALWAYS_DOWN, BuildReportCsv, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def trigger(client: APIClient, **body: str) -> str:
    response = client.post("/trigger_report", body, format="json")
    assert response.status_code == 202, response.content
    report_id: str = response.json()["report_id"]
    return report_id


def get_report(client: APIClient, report_id: str, accept: str = "*/*") -> Any:
    return client.get("/get_report", {"report_id": report_id}, HTTP_ACCEPT=accept)


def csv_body(response: Any) -> str:
    assert response["Content-Type"] == "text/csv", response.content
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_a_triggered_report_is_run_by_django_q_and_downloads_as_the_build_report_csv(
    api_client: APIClient, week_of_polls: datetime, build_report_csv: BuildReportCsv
) -> None:
    response = api_client.post("/trigger_report")
    assert response.status_code == 202
    report_id = response.json()["report_id"]

    polled = api_client.get(response["Location"])

    assert polled.status_code == 200
    assert polled["X-Report-Status"] == "Complete"
    body = csv_body(polled)
    assert body == CSV_AT_NOW
    assert body == build_report_csv(week_of_polls)
    plan = Success.objects.get(name=f"report-{report_id}")
    assert plan.func == "reports.tasks.run_report"
    assert not Failure.objects.exists()


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_queued_report_reads_running_until_the_workers_finish_it(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks
) -> None:
    report_id = trigger(api_client)

    before = get_report(api_client, report_id)
    ran = run_queued_tasks()
    after = get_report(api_client, report_id)

    assert before.status_code == 200
    assert before.json() == {"report_id": report_id, "status": "Running", "progress": 0.0}
    assert ran >= 1
    assert after.status_code == 200
    assert after["X-Report-Status"] == "Complete"
    assert OrmQ.objects.count() == 0


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_progress_rises_while_the_workers_run_and_the_report_ends_complete(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks, settings: Settings
) -> None:
    settings.REPORT_SHARD_SIZE = 1  # one task per store, so there is progress to see between tasks
    settings.REPORT_CHUNK_SIZE = 1
    report_id = trigger(api_client)
    answers: list[dict[str, Any]] = []

    def poll() -> None:
        response = get_report(api_client, report_id, accept="application/json")
        assert response.status_code == 200
        answers.append(response.json())

    run_queued_tasks(after_each=poll)

    running = [answer["progress"] for answer in answers if answer["status"] == "Running"]
    assert answers[-1]["status"] == "Complete"
    # The last task, after Complete, stores the extended CSV.
    assert [answer["status"] for answer in answers] == ["Running"] * len(running) + ["Complete"] * 2
    assert Report.objects.get(id=report_id).extended_csv_file
    assert running == sorted(running)
    assert all(0.0 <= progress < 1.0 for progress in running)
    assert any(0.0 < progress < 1.0 for progress in running)


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_two_reports_triggered_together_both_complete_with_their_own_csv(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks, build_report_csv: BuildReportCsv
) -> None:
    latest = trigger(api_client)
    earlier = trigger(api_client, as_of=(week_of_polls - timedelta(days=2)).isoformat())

    run_queued_tasks()

    assert csv_body(get_report(api_client, latest)) == CSV_AT_NOW == build_report_csv(week_of_polls)
    assert csv_body(get_report(api_client, earlier)) == CSV_TWO_DAYS_AGO


def test_now_is_fixed_when_the_report_is_triggered_not_when_a_worker_runs_it(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks, build_report_csv: BuildReportCsv
) -> None:
    report_id = trigger(api_client)
    PollFactory(store_id="always-down", timestamp_utc=week_of_polls + timedelta(minutes=10), status="active")

    run_queued_tasks()

    report = get_report(api_client, report_id, accept="application/json").json()
    assert report["as_of"] == "2023-01-25T12:00:00Z"
    assert csv_body(get_report(api_client, report_id)) == CSV_AT_NOW
    assert ROW_ALWAYS_DOWN not in build_report_csv(week_of_polls + timedelta(minutes=10)).splitlines()


def test_a_report_as_of_a_past_time_ignores_the_polls_after_it(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks, build_report_csv: BuildReportCsv
) -> None:
    as_of = week_of_polls - timedelta(days=2)
    report_id = trigger(api_client, as_of="2023-01-23T12:00:00Z")

    run_queued_tasks()

    body = csv_body(get_report(api_client, report_id))
    assert body == CSV_TWO_DAYS_AGO
    assert body == build_report_csv(as_of)


def test_a_report_whose_computation_keeps_raising_is_failed_with_the_error(
    api_client: APIClient,
    week_of_polls: datetime,
    run_queued_tasks: RunQueuedTasks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable_polls(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the polls table is unreadable")

    monkeypatch.setattr(reports.fanout.shards, "store_polls", unreadable_polls)
    report_id = trigger(api_client)

    run_queued_tasks()

    response = get_report(api_client, report_id)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert (answer["report_id"], answer["status"]) == (report_id, "Failed")
    assert "unreadable" not in answer["error"] and "RuntimeError" not in answer["error"]
    assert re.search(r"internal error [0-9a-f]{16} \(logged\)", answer["error"]), answer["error"]
    assert any("the polls table is unreadable" in str(failure.result) for failure in Failure.objects.all())
    assert OrmQ.objects.count() == 0


def test_a_report_delivered_twice_is_computed_once(
    api_client: APIClient, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks
) -> None:
    report_id = trigger(api_client)
    async_task("reports.tasks.run_report", report_id, task_name=f"report-{report_id}-again", group="reports")

    run_queued_tasks()

    assert csv_body(get_report(api_client, report_id)) == CSV_AT_NOW
    assert get_report(api_client, report_id, accept="application/json").json()["rows"] == 5
    assert not Failure.objects.exists()
