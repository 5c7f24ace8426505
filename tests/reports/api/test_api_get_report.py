"""``GET /get_report``: Running with progress, the CSV when Complete, Failed with its error, 400/404 in JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from reports.models import Report
from tests.reports.conftest import HEADER, ROW_ALWAYS_UP, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

AS_OF = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)
CSV = f"{HEADER}\n{ROW_ALWAYS_UP}\n"


def complete_report() -> Report:
    """A finished report as the workers leave it: status, times, row count and the CSV file."""
    report = Report(
        status=Report.Status.COMPLETE,
        as_of=AS_OF,
        started_at=datetime(2023, 1, 25, 12, 5, tzinfo=UTC),
        finished_at=datetime(2023, 1, 25, 12, 6, tzinfo=UTC),
        rows=1,
    )
    report.csv_file.save(f"report-{report.id}.csv", ContentFile(CSV.encode()), save=True)
    return report


def streamed_text(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def get_report(client: APIClient, report_id: str, path: str = "/get_report", **meta: Any) -> Any:
    return client.get(path, {"report_id": report_id}, **meta)


def test_a_queued_report_is_running_with_no_progress(api_client: APIClient) -> None:
    report = Report.objects.create(as_of=AS_OF)

    response = get_report(api_client, report.id)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"report_id": report.id, "status": "Running", "progress": 0.0}


def test_a_complete_report_is_the_csv_as_an_attachment(api_client: APIClient) -> None:
    report = complete_report()

    response = get_report(api_client, report.id)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == f'attachment; filename="report-{report.id}.csv"'
    assert response["X-Report-Status"] == "Complete"
    assert streamed_text(response) == CSV


@pytest.mark.parametrize("accept", ["*/*", "text/csv", "text/csv, */*;q=0.1"])
def test_a_client_accepting_csv_gets_the_csv(api_client: APIClient, accept: str) -> None:
    report = complete_report()

    response = get_report(api_client, report.id, HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert streamed_text(response) == CSV


def test_a_client_accepting_only_csv_still_reads_a_running_report_as_json(api_client: APIClient) -> None:
    report = Report.objects.create(as_of=AS_OF)

    response = get_report(api_client, report.id, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response.json() == {"report_id": report.id, "status": "Running", "progress": 0.0}


@pytest.mark.parametrize(
    ("query", "accept"),
    [({}, "application/json"), ({"format": "json"}, "*/*"), ({"format": "json"}, "text/csv")],
)
def test_a_client_asking_for_json_gets_the_complete_reports_summary(
    api_client: APIClient, query: dict[str, str], accept: str
) -> None:
    report = complete_report()

    response = api_client.get("/get_report", {"report_id": report.id, **query}, HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "report_id": report.id,
        "status": "Complete",
        "download_url": f"http://testserver/reports/{report.id}/download",
        "as_of": "2023-01-25T12:00:00Z",
        "rows": 1,
        "started_at": "2023-01-25T12:05:00Z",
        "finished_at": "2023-01-25T12:06:00Z",
    }


def test_the_download_url_serves_the_same_csv(api_client: APIClient) -> None:
    report = complete_report()
    download_url = get_report(api_client, report.id, HTTP_ACCEPT="application/json").json()["download_url"]

    response = api_client.get(download_url)

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="report-{report.id}.csv"'
    assert streamed_text(response) == CSV


def test_the_download_url_of_an_unfinished_report_is_a_404(api_client: APIClient) -> None:
    report = Report.objects.create(as_of=AS_OF)

    response = api_client.get(f"/reports/{report.id}/download")

    assert response.status_code == 404
    assert response.json() == {"detail": f"no complete report with id {report.id!r}"}


def test_a_failed_report_is_failed_with_its_error(api_client: APIClient) -> None:
    report = Report.objects.create(
        as_of=AS_OF,
        status=Report.Status.FAILED,
        error="RuntimeError: the polls table is unreadable",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )

    response = get_report(api_client, report.id)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "report_id": report.id,
        "status": "Failed",
        "error": "RuntimeError: the polls table is unreadable",
    }


def test_an_unknown_report_id_is_a_404_in_json(api_client: APIClient) -> None:
    response = get_report(api_client, "A" * 22)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"no report with id {'A' * 22!r}"}


def test_a_missing_report_id_is_a_400_in_json(api_client: APIClient) -> None:
    response = api_client.get("/get_report")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("report_id: ")


@pytest.mark.parametrize(
    "report_id",
    ["", "   ", "short", "A" * 44, "../../etc/passwd-xxxxxxxx", "A" * 20 + "'; --", "é" * 22, "A" * 21 + "\x00"],
)
def test_a_malformed_report_id_is_a_400_in_json(api_client: APIClient, report_id: str) -> None:
    response = get_report(api_client, report_id)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("report_id: ")


def test_a_repeated_report_id_parameter_uses_the_last_one(api_client: APIClient) -> None:
    report = Report.objects.create(as_of=AS_OF)

    response = api_client.get(f"/get_report?report_id={'A' * 22}&report_id={report.id}")

    assert response.status_code == 200
    assert response.json()["report_id"] == report.id


@pytest.mark.parametrize("path", ["/get_report", "/get_report/"])
def test_get_report_answers_with_and_without_a_trailing_slash(api_client: APIClient, path: str) -> None:
    report = Report.objects.create(as_of=AS_OF)

    response = get_report(api_client, report.id, path=path)

    assert response.status_code == 200
    assert response.json()["status"] == "Running"


def test_posting_to_get_report_is_a_405_in_json(api_client: APIClient) -> None:
    response = api_client.post("/get_report", {"report_id": "A" * 22})

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}


def test_the_browsable_api_renders_a_running_and_a_complete_report(api_client: APIClient) -> None:
    running = Report.objects.create(as_of=AS_OF)
    complete = complete_report()

    running_page = get_report(api_client, running.id, HTTP_ACCEPT="text/html")
    complete_page = get_report(api_client, complete.id, HTTP_ACCEPT="text/html")

    assert running_page.status_code == 200
    assert running_page["Content-Type"].startswith("text/html")
    assert "&quot;Running&quot;" in running_page.content.decode()
    assert complete_page.status_code == 200
    assert complete_page["Content-Type"].startswith("text/html")
    assert f"/reports/{complete.id}/download" in complete_page.content.decode()


def test_the_browsable_api_renders_a_bad_request_as_a_page(api_client: APIClient) -> None:
    response = api_client.get("/get_report", HTTP_ACCEPT="text/html")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_any_staff_user_can_read_a_fleet_report_someone_else_requested(
    api_client: APIClient, django_user_model: type[User]
) -> None:
    report = Report.objects.create(as_of=AS_OF, requested_by=django_user_model.objects.create_user(username="bob"))

    assert get_report(api_client, report.id).status_code == 200


class TestOverdueReports:
    """A report whose workers died would stay Running; after REPORT_DEADLINE_SECONDS it reads as Failed."""

    def age(self, report_id: str, seconds: int) -> None:
        Report.objects.filter(id=report_id).update(created_at=timezone.now() - timedelta(seconds=seconds))

    def test_a_running_report_older_than_the_deadline_is_failed_and_its_workers_stop(
        self, api_client: APIClient, settings: Settings, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks
    ) -> None:
        settings.REPORT_DEADLINE_SECONDS = 60
        report_id = api_client.post("/trigger_report").json()["report_id"]
        run_queued_tasks(limit=1)  # the report has started; the rest of its work is still queued
        self.age(report_id, 61)

        response = get_report(api_client, report_id)
        run_queued_tasks()

        assert response.status_code == 200
        answer = response.json()
        assert (answer["report_id"], answer["status"]) == (report_id, "Failed")
        assert answer["error"].startswith("the report did not finish within 60 s")
        assert get_report(api_client, report_id).json() == answer
        assert not Report.objects.get(id=report_id).csv_file

    def test_a_queued_report_older_than_the_deadline_is_failed_and_never_run(
        self, api_client: APIClient, settings: Settings, week_of_polls: datetime, run_queued_tasks: RunQueuedTasks
    ) -> None:
        settings.REPORT_DEADLINE_SECONDS = 60
        report_id = api_client.post("/trigger_report").json()["report_id"]
        self.age(report_id, 61)

        assert get_report(api_client, report_id).json()["status"] == "Failed"
        run_queued_tasks()
        assert get_report(api_client, report_id).json()["status"] == "Failed"
        assert not Report.objects.get(id=report_id).csv_file

    def test_a_report_within_the_deadline_is_still_running(
        self, api_client: APIClient, settings: Settings, week_of_polls: datetime
    ) -> None:
        settings.REPORT_DEADLINE_SECONDS = 60
        report_id = api_client.post("/trigger_report").json()["report_id"]
        self.age(report_id, 50)

        assert get_report(api_client, report_id).json() == {
            "report_id": report_id,
            "status": "Running",
            "progress": 0.0,
        }

    def test_a_complete_report_past_the_deadline_stays_complete(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.REPORT_DEADLINE_SECONDS = 60
        report = complete_report()
        self.age(report.id, 86_400)

        assert get_report(api_client, report.id)["X-Report-Status"] == "Complete"


def test_a_complete_report_whose_file_is_gone_is_a_410_in_json(api_client: APIClient) -> None:
    report = complete_report()
    report.csv_file.storage.delete(report.csv_file.name)

    response = get_report(api_client, report.id)

    assert response.status_code == 410
    assert "no longer stored" in response.json()["detail"]
