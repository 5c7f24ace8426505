"""``?columns=extended``: the report's columns, then uptime %, outage count and longest outage per window.

The default CSV stays byte for byte what ``build_report`` writes; the extended
one is computed from the report's own snapshot, by the worker once the report
is complete, and stored beside the CSV, so a download reads a file. A report
without a stored one (completed before) computes it on its first download.
Either way it is refused (409) rather than stored or served when it would
disagree with the stored report.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django_q.conf import Conf
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from reports.extended_csv import EXTENDED_HEADER
from reports.fanout.queue import report_trigger
from reports.models import Report
from stores.models import Poll
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import CSV_AT_NOW, HEADER, BuildReportCsv, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports", "q_sync")]


@pytest.fixture
def report(settings: Settings, week_of_polls: datetime) -> Report:
    """The complete report of ``week_of_polls``, fanned out over three shards."""
    settings.REPORT_SHARD_SIZE = 2
    done = Report.objects.get(id=report_trigger(as_of=None).report.id)
    assert done.status == Report.Status.COMPLETE and done.shards.count() == 3
    return done


def body(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv"
    return b"".join(response.streaming_content).decode("utf-8")


def extended_rows(report: Report, client: APIClient) -> dict[str, dict[str, str]]:
    text = body(client.get("/get_report", {"report_id": report.id, "columns": "extended"}))
    return {row["store_id"]: row for row in csv.DictReader(io.StringIO(text))}


def test_the_default_csv_is_still_byte_for_byte_the_build_report_csv(
    report: Report, api_client: APIClient, week_of_polls: datetime, build_report_csv: BuildReportCsv
) -> None:
    plain = body(api_client.get("/get_report", {"report_id": report.id}))
    default = body(api_client.get("/get_report", {"report_id": report.id, "columns": "default"}))
    download = body(api_client.get(f"/reports/{report.id}/download"))

    assert plain == default == download == CSV_AT_NOW == build_report_csv(week_of_polls)


def test_the_extended_csv_adds_twelve_columns_after_the_reports_own(report: Report, api_client: APIClient) -> None:
    response = api_client.get("/get_report", {"report_id": report.id, "columns": "extended"})

    assert response["Content-Disposition"] == f'attachment; filename="report-{report.id}-extended.csv"'
    lines = body(response).splitlines()
    assert lines[0] == ",".join(EXTENDED_HEADER)
    assert lines[0].startswith(HEADER + ",uptime_percent_last_hour,")
    assert [line.split(",")[:7] for line in lines] == [line.split(",") for line in CSV_AT_NOW.splitlines()]


def test_the_extended_columns_of_the_hand_checked_week(report: Report, api_client: APIClient) -> None:
    rows = extended_rows(report, api_client)

    def extra(store_id: str) -> list[str]:
        return list(rows[store_id].values())[7:]

    # percent hour/day/week, outages hour/day/week, longest hour (min), day (h), week (h),
    # no data hour (min), day (h), week (h): business time more than 1 h from every observation.
    # always-up: its polls at NOW and 3 days before observe 1 h of the day and 3 h of the week.
    assert extra("always-up") == [
        *("100.00", "100.00", "100.00", "0", "0", "0", "0.00", "0.00", "0.00"),
        *("0.00", "23.00", "165.00"),
    ]
    # One poll 30 min before NOW observes the last 90 minutes.
    assert extra("always-down") == [
        *("0.00", "0.00", "0.00", "1", "1", "1", "60.00", "24.00", "168.00"),
        *("0.00", "22.50", "166.50"),
    ]
    # Up until two days ago, down since: 120 of 168 hours up. Its poll a day before NOW
    # observes the first hour of the day window; the last hour is 23 h from it.
    assert extra("recovered") == [
        *("0.00", "0.00", "71.43", "1", "1", "1", "60.00", "24.00", "48.00"),
        *("60.00", "23.00", "164.00"),
    ]
    # Closed in the last hour (no percentage, no business time to miss); down for the 8 business
    # hours of the 24th. 56 business hours in the week, 8 in the day; each of its three
    # observations covers 2 of them.
    assert extra("office-hours") == [
        *("", "100.00", "85.71", "0", "0", "1", "0.00", "0.00", "8.00"),
        *("0.00", "6.00", "50.00"),
    ]


def test_the_download_url_serves_the_extended_csv_too(report: Report, api_client: APIClient) -> None:
    via_download = body(api_client.get(f"/reports/{report.id}/download", {"columns": "extended"}))
    via_get_report = body(api_client.get("/get_report", {"report_id": report.id, "columns": "extended"}))

    assert via_download == via_get_report


@pytest.mark.parametrize("path", ["/get_report", "/reports/{id}/download"])
def test_unknown_columns_are_a_400_in_json(report: Report, api_client: APIClient, path: str) -> None:
    response = api_client.get(path.format(id=report.id), {"report_id": report.id, "columns": "everything"})

    assert response.status_code == 400
    assert "columns" in response.json()["detail"]


def test_polls_stored_after_the_report_do_not_change_its_extended_csv(report: Report, api_client: APIClient) -> None:
    before = body(api_client.get("/get_report", {"report_id": report.id, "columns": "extended"}))
    assert report.as_of is not None
    PollFactory(store=StoreFactory(id="always-up"), timestamp_utc=report.as_of - timedelta(hours=2), status="inactive")

    after = body(api_client.get("/get_report", {"report_id": report.id, "columns": "extended"}))

    assert after == before


def completed_before_extended_csvs_were_stored(report: Report) -> Report:
    """The report as one assembled before workers stored extended CSVs: no ``extended_csv_file``."""
    report.extended_csv_file.delete(save=True)
    return report


def test_a_poll_the_report_read_and_that_changed_since_makes_the_extended_csv_a_409(
    report: Report, api_client: APIClient
) -> None:
    completed_before_extended_csvs_were_stored(report)
    Poll.objects.filter(store_id="always-up").update(status="inactive")

    response = api_client.get("/get_report", {"report_id": report.id, "columns": "extended"})

    assert response.status_code == 409
    assert "always-up" in response.json()["detail"]
    assert "trigger a new report" in response.json()["detail"]


def test_a_running_report_with_extended_columns_still_answers_its_progress(api_client: APIClient) -> None:
    running = Report.objects.create(as_of=datetime(2023, 1, 25, 12).astimezone())

    response = api_client.get("/get_report", {"report_id": running.id, "columns": "extended"})

    assert response.status_code == 200
    assert response.json()["status"] == "Running"


def test_the_schema_documents_the_columns_parameter(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    for path in ["/get_report/", "/reports/{report_id}/download/"]:
        parameters = {parameter["name"]: parameter for parameter in schema["paths"][path]["get"]["parameters"]}
        assert parameters["columns"]["schema"]["enum"] == ["default", "extended"]


def test_a_report_without_stores_has_an_extended_csv_of_just_the_header(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    empty = Report.objects.get(id=report_trigger(as_of=week_of_polls - timedelta(days=30)).report.id)
    # Polls of that week stored after the report was planned do not show up.
    PollFactory(store=StoreFactory(id="late"), timestamp_utc=week_of_polls - timedelta(days=31), status="active")

    text = body(api_client.get(f"/reports/{empty.id}/download", {"columns": "extended"}))

    assert text == ",".join(EXTENDED_HEADER) + "\n"


def test_a_stored_file_that_is_not_a_report_csv_is_a_409_not_a_crash(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    odd = Report(status=Report.Status.COMPLETE, as_of=week_of_polls, rows=1)
    odd.csv_file.save("odd.csv", ContentFile(b"store_id\n1\n"), save=True)

    response = api_client.get(f"/reports/{odd.id}/download", {"columns": "extended"})

    assert response.status_code == 409
    assert "header" in response.json()["detail"]


def test_the_worker_stores_the_extended_csv_beside_the_csv_when_the_report_completes(report: Report) -> None:
    assert report.extended_csv_file.name == f"reports/report-{report.id}-extended.csv"
    with report.extended_csv_file.open("rb") as stored:
        lines = stored.read().decode().splitlines()

    assert lines[0] == ",".join(EXTENDED_HEADER)
    assert [line.split(",")[:7] for line in lines] == [line.split(",") for line in CSV_AT_NOW.splitlines()]


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_download_reads_the_stored_file_and_computes_nothing(
    report: Report, api_client: APIClient, django_assert_max_num_queries: Any, method: str
) -> None:
    with report.extended_csv_file.open("wb") as stored:
        stored.write(b"what the worker stored\n")

    # The token, the report: no shard, poll or store is read.
    with django_assert_max_num_queries(2):
        response = getattr(api_client, method)(f"/reports/{report.id}/download", {"columns": "extended"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    if method == "get":
        assert body(response) == "what the worker stored\n"


def test_a_poll_changed_after_the_worker_stored_it_does_not_change_the_extended_csv(
    report: Report, api_client: APIClient
) -> None:
    before = body(api_client.get("/get_report", {"report_id": report.id, "columns": "extended"}))
    Poll.objects.filter(store_id="always-up").update(status="inactive")

    after = body(api_client.get("/get_report", {"report_id": report.id, "columns": "extended"}))

    assert after == before


def test_a_report_completed_before_is_computed_on_its_first_download_and_then_read(
    report: Report, api_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    expected = body(api_client.get(f"/reports/{report.id}/download", {"columns": "extended"}))
    completed_before_extended_csvs_were_stored(report)

    first = body(api_client.get(f"/reports/{report.id}/download", {"columns": "extended"}))
    report.refresh_from_db()
    with django_assert_max_num_queries(2):
        second = body(api_client.get(f"/reports/{report.id}/download", {"columns": "extended"}))

    assert first == second == expected
    assert report.extended_csv_file.name == f"reports/report-{report.id}-extended.csv"


def test_a_report_whose_data_changed_before_the_worker_ran_stores_no_extended_csv(
    settings: Settings,
    week_of_polls: datetime,
    api_client: APIClient,
    monkeypatch: pytest.MonkeyPatch,
    run_queued_tasks: RunQueuedTasks,
) -> None:
    settings.REPORT_SHARD_SIZE = 2
    monkeypatch.setattr(Conf, "SYNC", False)  # tasks wait in the ORM broker for run_queued_tasks
    report = report_trigger(as_of=None).report

    def change_a_poll_once_complete() -> None:
        if Report.objects.filter(id=report.id, status=Report.Status.COMPLETE).exists():
            Poll.objects.filter(store_id="always-up").update(status="inactive")

    run_queued_tasks(after_each=change_a_poll_once_complete)

    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE and not report.extended_csv_file
    response = api_client.get("/get_report", {"report_id": report.id, "columns": "extended"})
    assert response.status_code == 409
    assert "always-up" in response.json()["detail"]
