"""Backpressure in the portal: past REPORT_MAX_UNFINISHED unfinished reports, Run says the service is busy."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from reports.models import Report
from tests.portal.conftest import Tenants

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture
def busy(settings: Settings, week_of_polls: datetime) -> list[Report]:
    settings.REPORT_MAX_UNFINISHED = 2
    settings.REPORT_BUSY_RETRY_AFTER_SECONDS = 7
    return [Report.objects.create(as_of=week_of_polls), Report.objects.create(as_of=week_of_polls, status="running")]


def test_the_portal_says_the_service_is_busy(tenants: Tenants, busy: list[Report]) -> None:
    alice = Client()
    alice.force_login(tenants.alice)

    response = alice.post("/o/alpha/run/")

    assert (response.status_code, response["Retry-After"]) == (503, "7")
    assert 'id="service-busy"' in response.content.decode()
    assert Report.objects.count() == 2
