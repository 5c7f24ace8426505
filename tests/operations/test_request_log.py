"""One log line per request under a request id; the answer carries the id, and a 500's error id is the same."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from loopmonitor.request_log import JsonFormatter
from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "loopmonitor.request"]


def test_each_request_is_one_log_line_with_the_id_the_answer_carries(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="loopmonitor.request"):
        answers = [api_client.get("/get_report", {"report_id": "A" * 22}) for _ in range(2)]

    records = request_records(caplog)
    assert [answer.status_code for answer in answers] == [404, 404]
    assert len(records) == 2
    ids = [answer["X-Request-ID"] for answer in answers]
    assert ids[0] != ids[1]
    assert [record.request_id for record in records] == ids  # type: ignore[attr-defined]
    assert records[0].status == 404 and records[0].route == "^get_report/?$"  # type: ignore[attr-defined]
    assert records[0].user_id is not None  # type: ignore[attr-defined]


def test_a_well_formed_incoming_request_id_is_kept_and_a_forged_one_replaced(api_client: APIClient) -> None:
    kept = api_client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a-0001")
    replaced = api_client.get("/healthz", HTTP_X_REQUEST_ID="x\nforged log line")

    assert kept["X-Request-ID"] == "lb-7f3a-0001"
    assert len(replaced["X-Request-ID"]) == 16 and "\n" not in replaced["X-Request-ID"]


def test_a_500s_error_id_is_the_request_id(
    api_client: APIClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    report = Report.objects.create(status=Report.Status.COMPLETE, rows=0)
    (Path(settings.MEDIA_ROOT) / "reports").mkdir(parents=True)
    Report.objects.filter(id=report.id).update(csv_file="reports")  # a directory: opening it raises
    api_client.raise_request_exception = False

    with caplog.at_level(logging.INFO):
        response = api_client.get(f"/reports/{report.id}/download")

    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    assert response.json()["error_id"] == request_id
    assert any(
        record.name == "loopmonitor.error_ids" and request_id in record.getMessage() for record in caplog.records
    )
    assert [record.status for record in request_records(caplog)] == [500]  # type: ignore[attr-defined]


def test_the_json_format_is_one_object_per_record_with_the_extra_fields_and_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info(), extra={"request_id": "abc"}
        )

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "failed here"
    assert entry["level"] == "ERROR" and entry["logger"] == "x" and entry["request_id"] == "abc"
    assert "ValueError: boom" in entry["exception"]
