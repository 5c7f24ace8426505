"""``GET /stores/{store_id}/outages``: a store's outages in the week before ``as_of``, paginated, in JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def outages(client: APIClient, store_id: str, **query: Any) -> Any:
    return client.get(f"/stores/{store_id}/outages", query)


def test_the_hand_checked_week_of_a_store_with_business_hours(api_client: APIClient, week_of_polls: datetime) -> None:
    response = outages(api_client, "office-hours")

    assert response.status_code == 200
    page = response.json()
    assert (page["store_id"], page["timezone"], page["as_of"]) == ("office-hours", "Asia/Tokyo", "2023-01-25T12:00:00Z")
    assert page["window_start"] == "2023-01-18T12:00:00Z"
    assert (page["count"], page["next"], page["previous"]) == (1, None, None)
    # Down for the 8 business hours (09:00-17:00 Tokyo) of the 24th, resting on its 06:00 UTC poll.
    assert page["results"] == [
        {
            "start_utc": "2023-01-24T00:00:00Z",
            "end_utc": "2023-01-24T08:00:00Z",
            "start_local": "2023-01-24T09:00:00+09:00",
            "end_local": "2023-01-24T17:00:00+09:00",
            "duration_seconds": 28800.0,
            "ongoing": False,
            "cut_at_window_start": False,
            "poll_times_utc": ["2023-01-24T06:00:00Z"],
        }
    ]
    week = page["totals"]["last_week"]
    assert week == {
        "uptime_seconds": 48 * 3600.0,
        "downtime_seconds": 8 * 3600.0,
        "uptime_percent": pytest.approx(600 / 7),
        "outages": 1,
        "longest_outage_seconds": 28800.0,
    }
    assert page["totals"]["last_hour"]["uptime_percent"] is None


def test_an_outage_lasting_until_as_of_is_ongoing_and_one_from_the_weeks_start_is_cut(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    [outage] = outages(api_client, "always-down").json()["results"]

    assert (outage["ongoing"], outage["cut_at_window_start"]) == (True, True)
    assert outage["duration_seconds"] == 168 * 3600


def test_as_of_moves_the_week(api_client: APIClient, week_of_polls: datetime) -> None:
    page = outages(api_client, "recovered", as_of=(NOW - timedelta(days=2)).isoformat()).json()

    assert page["as_of"] == "2023-01-23T12:00:00Z"
    assert page["count"] == 0
    assert page["totals"]["last_week"]["uptime_percent"] == 100.0


def test_outages_come_page_by_page_in_time_order(api_client: APIClient) -> None:
    store = StoreFactory(id="flaky", timezone="UTC")
    start = datetime(2023, 1, 20, tzinfo=UTC)
    for hour in range(60):
        PollFactory(
            store=store, timestamp_utc=start + timedelta(hours=hour), status="active" if hour % 2 else "inactive"
        )

    first = outages(api_client, "flaky", page_size=10).json()
    last = api_client.get(first["next"].replace("http://testserver", "")).json()

    assert first["count"] == 30
    assert len(first["results"]) == 10 and first["previous"] is None
    starts = [outage["start_utc"] for outage in first["results"]]
    assert starts == sorted(starts)
    assert last["results"][0]["start_utc"] > starts[-1]


def test_a_page_past_the_last_is_a_404_in_json(api_client: APIClient, week_of_polls: datetime) -> None:
    response = outages(api_client, "office-hours", page=9)

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("store_id", ["no-such-store", "x" * 65, "tab%09in-id"])
def test_an_unknown_store_is_a_404_in_json(api_client: APIClient, week_of_polls: datetime, store_id: str) -> None:
    response = outages(api_client, store_id)

    assert response.status_code == 404
    assert "no store" in response.json()["detail"]


def test_a_store_id_with_a_slash_is_found(api_client: APIClient) -> None:
    PollFactory(store=StoreFactory(id="north/7"), timestamp_utc=NOW, status="active")

    response = outages(api_client, "north/7")

    assert response.status_code == 200
    assert response.json()["store_id"] == "north/7"


@pytest.mark.parametrize("as_of", ["yesterday", "2023-13-01T00:00:00Z", "1800-01-01T00:00:00Z"])
def test_a_bad_as_of_is_a_400_in_json(api_client: APIClient, week_of_polls: datetime, as_of: str) -> None:
    response = outages(api_client, "office-hours", as_of=as_of)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("as_of:")


def test_without_any_poll_and_without_as_of_it_is_a_409(api_client: APIClient) -> None:
    StoreFactory(id="quiet")

    response = outages(api_client, "quiet")

    assert response.status_code == 409


def test_a_store_without_polls_in_the_week_has_no_outage_and_no_percentage(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    StoreFactory(id="quiet")

    page = outages(api_client, "quiet").json()

    assert page["count"] == 0
    assert page["totals"]["last_week"]["uptime_percent"] is None


def test_an_anonymous_call_is_a_401(anonymous_client: APIClient, week_of_polls: datetime) -> None:
    response = outages(anonymous_client, "office-hours")

    assert response.status_code == 401
    assert "office-hours" not in response.content.decode()


def test_a_logged_in_session_may_read_outages(user: User, week_of_polls: datetime) -> None:
    client = APIClient()
    client.force_login(user)

    assert outages(client, "office-hours").status_code == 200


def test_the_schema_documents_the_outages_endpoint(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/stores/{store_id}/outages/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"store_id", "as_of", "page", "page_size"}
    assert set(operation["responses"]) >= {"200", "400", "404"}
