"""``POST /trigger_report``: 202 with an unguessable id, a Location to poll, and a queued django-q2 task."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django_q.models import OrmQ
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def test_a_trigger_without_a_body_answers_202_with_a_random_url_safe_report_id(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    first = api_client.post("/trigger_report")
    # Another `now`, so not the same report (an equal trigger returns the first: test_trigger_dedupe.py).
    second = api_client.post("/trigger_report", {"as_of": "2023-01-24T00:00:00Z"}, format="json")

    assert (first.status_code, second.status_code) == (202, 202)
    assert first["Content-Type"] == "application/json"
    assert list(first.json()) == ["report_id"]
    ids = [first.json()["report_id"], second.json()["report_id"]]
    assert ids[0] != ids[1]
    for report_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", report_id)
        assert len(base64.urlsafe_b64decode(report_id + "=" * (-len(report_id) % 4))) * 8 >= 128


def test_the_location_header_is_the_reports_status_url(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post("/trigger_report")

    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "testserver", "/get_report")
    assert parse_qs(location.query) == {"report_id": [response.json()["report_id"]]}
    assert api_client.get(response["Location"]).json()["status"] == "Running"


def test_a_trigger_queues_one_run_report_task_for_the_new_report(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    report_id = api_client.post("/trigger_report").json()["report_id"]

    [queued] = OrmQ.objects.all()
    assert queued.func() == "reports.tasks.run_report"
    assert queued.task["args"] == (report_id,)
    assert Report.objects.get(id=report_id).status == Report.Status.PENDING


def test_a_report_triggered_without_as_of_is_fixed_at_the_latest_poll(
    api_client: APIClient, user: User, week_of_polls: datetime
) -> None:
    report_id = api_client.post("/trigger_report").json()["report_id"]

    report = Report.objects.get(id=report_id)
    assert report.as_of == week_of_polls
    assert report.requested_by == user


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2023-01-24T10:30:00Z", datetime(2023, 1, 24, 10, 30, tzinfo=UTC)),
        ("2023-01-24T10:30:00+05:30", datetime(2023, 1, 24, 5, 0, tzinfo=UTC)),
        ("2023-01-24T10:30:00", datetime(2023, 1, 24, 10, 30, tzinfo=UTC)),
    ],
)
def test_an_explicit_as_of_is_the_reports_now_read_as_utc_unless_it_has_an_offset(
    api_client: APIClient, week_of_polls: datetime, as_of: str, expected: datetime
) -> None:
    response = api_client.post("/trigger_report", {"as_of": as_of}, format="json")

    assert response.status_code == 202
    assert Report.objects.get(id=response.json()["report_id"]).as_of == expected


def test_as_of_may_be_sent_as_a_form_field(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post("/trigger_report", {"as_of": "2023-01-24T10:30:00Z"})

    assert response.status_code == 202
    assert Report.objects.get(id=response.json()["report_id"]).as_of == datetime(2023, 1, 24, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("as_of", ["yesterday", "2023-02-30T00:00:00Z", "1674648000", ""])
def test_a_malformed_as_of_is_a_400_naming_the_field(
    api_client: APIClient, week_of_polls: datetime, as_of: str
) -> None:
    response = api_client.post("/trigger_report", {"as_of": as_of}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("as_of: ")
    assert "as_of" in response.json()["errors"]
    assert Report.objects.count() == 0
    assert OrmQ.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post("/trigger_report", "{as_of:", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_trigger_before_any_poll_is_a_409_explaining_why(api_client: APIClient) -> None:
    response = api_client.post("/trigger_report")

    assert response.status_code == 409
    assert response.json() == {"detail": "there are no polls in the database yet; ingest some first"}
    assert Report.objects.count() == 0


def test_a_trigger_with_as_of_needs_no_polls(api_client: APIClient) -> None:
    response = api_client.post("/trigger_report", {"as_of": "2023-01-24T10:30:00Z"}, format="json")

    assert response.status_code == 202


def test_the_trigger_answers_with_and_without_a_trailing_slash(api_client: APIClient, week_of_polls: datetime) -> None:
    first = api_client.post("/trigger_report")
    again = api_client.post("/trigger_report/")

    assert (first.status_code, again.status_code) == (202, 200)  # the same trigger: the same report
    assert again.json() == first.json()


def test_getting_the_trigger_url_is_a_405_in_json(api_client: APIClient) -> None:
    response = api_client.get("/trigger_report")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}


def test_the_browsable_api_shows_a_form_to_trigger_a_report(api_client: APIClient) -> None:
    response = api_client.get("/trigger_report/", HTTP_ACCEPT="text/html")

    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'method="POST"' in page
    assert "Trigger Report" in page


def test_triggers_beyond_the_users_rate_are_a_429_in_json(
    api_client: APIClient,
    django_user_model: type[User],
    week_of_polls: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DRF copies DEFAULT_THROTTLE_RATES onto the throttle class at import; the settings fixture cannot reach it.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"trigger_report": "2/hour"})
    other = APIClient()
    other.force_authenticate(django_user_model.objects.create_user(username="bob", is_staff=True))

    statuses = [api_client.post("/trigger_report").status_code for _ in range(3)]
    refused = api_client.post("/trigger_report")

    assert statuses == [202, 200, 429]  # the second reuses the first report, and counts all the same
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert 3500 <= int(refused["Retry-After"]) <= 3600
    assert Report.objects.count() == 1
    assert other.post("/trigger_report").status_code == 200  # bob's own budget; staff share the fleet report


def test_polling_is_not_throttled_by_the_trigger_rate(
    api_client: APIClient, week_of_polls: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"trigger_report": "1/hour"})
    report_id = api_client.post("/trigger_report").json()["report_id"]

    statuses = {api_client.get("/get_report", {"report_id": report_id}).status_code for _ in range(5)}

    assert statuses == {200}


def test_as_of_may_be_sent_in_the_query_string(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post("/trigger_report?as_of=2023-01-24T10:30:00Z")

    assert response.status_code == 202
    assert Report.objects.get(id=response.json()["report_id"]).as_of == datetime(2023, 1, 24, 10, 30, tzinfo=UTC)
