"""Schemathesis against the OpenAPI schema: no generated request is a server error.

The schema is fetched from ``/api/schema/`` and every call goes to the
Django WSGI application in this process, authenticated with a DRF token.
Besides the random report ids the schema allows, the query and the path
sometimes carry the id of a real report (running, failed or complete), so
the branches behind a found report are fuzzed too. ``as_of`` values come
from the schema's ``date-time`` format, and the coverage phase adds the
boundary and wrong-type values (nulls, numbers, empty strings, huge
strings) that most often turn into a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from schemathesis import Case, GenerationMode, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema

from ingestion.kinds import INGEST_KINDS
from loopmonitor.wsgi import application
from organizations.models import Organization
from reports.models import Report
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db

REPORT_IDS = {
    Report.Status.RUNNING: "running-report-id-0000",
    Report.Status.FAILED: "failed-report-id-00000",
    Report.Status.COMPLETE: "complete-report-id-000",
}


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """Keep the test's transaction open across WSGI requests.

    Django's WSGI handler closes "old" connections when a request starts and
    ends; inside a test's transaction that would end the transaction. The
    test client disconnects the same receiver for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(django_user_model: Any) -> dict[str, str]:
    token = Token.objects.create(user=django_user_model.objects.create_user(username="fuzzer", is_staff=True))
    return {"Authorization": f"Token {token.key}"}


@pytest.fixture
def known_reports(settings: Settings, tmp_path: Path) -> None:
    """A poll (so a trigger has a default ``now``) and one report in each state."""
    settings.MEDIA_ROOT = tmp_path / "media"
    now = datetime(2023, 1, 25, 12, tzinfo=UTC)
    PollFactory(timestamp_utc=now)
    Report.objects.create(id=REPORT_IDS[Report.Status.RUNNING], status=Report.Status.RUNNING, as_of=now)
    Report.objects.create(id=REPORT_IDS[Report.Status.FAILED], status=Report.Status.FAILED, as_of=now, error="boom")
    complete = Report(
        id=REPORT_IDS[Report.Status.COMPLETE],
        status=Report.Status.COMPLETE,
        as_of=now,
        rows=1,
        started_at=now,
        finished_at=now + timedelta(seconds=1),
    )
    complete.csv_file.save("complete.csv", ContentFile(b"store_id\n1\n"), save=True)
    organization = Organization.objects.create(slug="fuzzed", name="Fuzzed")
    subscription_create(organization=organization, cadence="daily", send_hour=8, email_to=["ops@fuzzed.example"])


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The trigger rate limit would answer most generated POSTs with 429 before any validation.

    Its counters live in the cache, keyed by user id, so they are cleared for the tests that follow.
    """
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"trigger_report": "100000/min"})
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_backpressure(settings: Settings) -> None:
    """The fuzzer triggers many reports that no worker computes: past REPORT_MAX_UNFINISHED every trigger
    would be the intended 503 (tests/reports/api/test_backpressure.py), which is not what is fuzzed here."""
    settings.REPORT_MAX_UNFINISHED = 1_000_000


@pytest.fixture
def api_schema(
    wsgi_in_test_transaction: None, known_reports: None, unthrottled: None, auth_header: dict[str, str]
) -> BaseSchema:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, headers=auth_header)

    known_ids = st.sampled_from(sorted(REPORT_IDS.values()))
    known_subscription = st.just(Subscription.objects.values_list("id", flat=True).get())

    @schema.hook
    def flatmap_query(context: HookContext, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if query is None or "report_id" not in query:
            return st.just(query)
        return st.one_of(st.just(query), known_ids.map(lambda report_id: {**query, "report_id": report_id}))

    @schema.hook
    def flatmap_path_parameters(context: HookContext, path: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        if path is not None and "subscription_id" in path:
            return st.one_of(st.just(path), known_subscription.map(lambda known: {**path, "subscription_id": known}))
        if path is None or "report_id" not in path:
            return st.just(path)
        return st.one_of(st.just(path), known_ids.map(lambda report_id: {**path, "report_id": report_id}))

    return schema


OPERATIONS = [
    ("POST", "/trigger_report/"),
    ("GET", "/get_report/"),
    ("GET", "/reports/"),
    ("GET", "/reports/{report_id}/download/"),
    ("GET", "/stores/{store_id}/outages/"),
    ("GET", "/ingest/runs/"),
    ("GET", "/ingest/runs/{run_id}/"),
    ("GET", "/ingest/runs/{run_id}/rejects/"),
    *(("POST", f"/ingest/{kind}/") for kind in INGEST_KINDS),
    ("GET", "/downloads/{token}/"),
    ("GET", "/subscriptions/"),
    ("POST", "/subscriptions/"),
    ("GET", "/subscriptions/{subscription_id}/"),
    ("PATCH", "/subscriptions/{subscription_id}/"),
    ("DELETE", "/subscriptions/{subscription_id}/"),
    ("GET", "/subscriptions/{subscription_id}/deliveries/"),
    ("POST", "/subscriptions/{subscription_id}/rotate_secret/"),
    ("POST", "/subscriptions/{subscription_id}/send_now/"),
]


def test_the_fuzzed_operations_are_every_operation_of_the_schema(api_schema: BaseSchema) -> None:
    paths = api_schema.raw_schema["paths"]
    served = {(method.upper(), path) for path, operations in paths.items() for method in operations}

    assert served == set(OPERATIONS)


@pytest.mark.usefixtures("no_backpressure")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_generated_request_is_a_server_error(
    api_schema: BaseSchema, auth_header: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    def call(case: Case[Any]) -> None:
        case.call_and_validate(headers=auth_header, checks=[not_a_server_error])

    call()


@pytest.mark.usefixtures("known_reports", "unthrottled")
@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("0001-01-01T00:00:00Z", 400),
        ("1899-12-31T23:59:59Z", 400),
        ("1900-01-01T00:00:00Z", 202),
        ("9998-12-31T23:59:59.999999Z", 202),
        ("9999-01-01T00:00:00Z", 400),
        ("9999-12-31T23:59:59-01:00", 400),
    ],
)
def test_an_as_of_the_worker_could_not_compute_is_refused_up_front(
    auth_header: dict[str, str], as_of: str, status: int
) -> None:
    # Schemathesis sends such values as valid date-times; they used to be accepted with a 202,
    # after which the worker failed with OverflowError and the report sat Running until its deadline.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=auth_header["Authorization"])

    response = client.post("/trigger_report", {"as_of": as_of}, format="json")

    assert response.status_code == status
    if status == 400:
        assert response.json()["detail"].startswith("as_of: ")
