"""Backpressure: with REPORT_MAX_UNFINISHED reports unfinished, a trigger is refused with 503 and Retry-After."""

from __future__ import annotations

from datetime import datetime

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture
def busy(settings: Settings, week_of_polls: datetime) -> list[Report]:
    settings.REPORT_MAX_UNFINISHED = 2
    settings.REPORT_BUSY_RETRY_AFTER_SECONDS = 7
    return [Report.objects.create(as_of=week_of_polls), Report.objects.create(as_of=week_of_polls, status="running")]


def test_a_trigger_past_the_limit_is_a_503_with_retry_after_and_starts_nothing(
    api_client: APIClient, busy: list[Report]
) -> None:
    response = api_client.post("/trigger_report", {}, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json() == {"detail": "2 reports are still being computed; try again in 7 s"}
    assert Report.objects.count() == 2


def test_a_period_trigger_past_the_limit_is_refused_too(api_client: APIClient, busy: list[Report]) -> None:
    response = api_client.post("/trigger_report", {"period": "last_7_days"}, format="json")

    assert (response.status_code, response["Retry-After"]) == (503, "7")
    assert Report.objects.count() == 2


def test_finished_reports_do_not_count(api_client: APIClient, busy: list[Report]) -> None:
    Report.objects.filter(id=busy[1].id).update(status="complete")

    assert api_client.post("/trigger_report", {}, format="json").status_code == 202
