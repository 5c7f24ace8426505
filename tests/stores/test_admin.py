"""The stores, polls and business-hours admin: changelists render, search and filter, and stay cheap."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stores.admin import CappedCountPaginator, IndexedDatesQuerySet
from stores.models import BusinessHours, Poll, Store
from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

pytestmark = pytest.mark.django_db


def at(day: int, hour: int) -> datetime:
    return datetime(2023, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def stores() -> None:
    zoned = StoreFactory(id="1", timezone="Asia/Tokyo")
    StoreFactory(id="10", timezone=None)
    StoreFactory(id="2", timezone=None)
    BusinessHoursFactory(store=zoned, day_of_week=0)
    BusinessHoursFactory(store=zoned, day_of_week=6, start_time_local=time(22), end_time_local=time(2))
    PollFactory(store=zoned, timestamp_utc=at(22, 10), status="active")
    PollFactory(store=zoned, timestamp_utc=at(23, 11), status="inactive")
    PollFactory(store=Store.objects.get(id="10"), timestamp_utc=at(23, 12), status="active")


def changelist(name: str) -> str:
    return reverse(f"admin:stores_{name}_changelist")


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("store", ""),
        ("store", "?q=1"),
        ("store", "?timezone_set=yes"),
        ("store", "?timezone_set=no&schedule=24x7&polled=yes"),
        ("store", "?schedule=hours&q=1"),
        ("store", "?o=3"),
        ("store", "?o=-5"),
        ("poll", ""),
        ("poll", "?q=1"),
        ("poll", "?status__exact=inactive&q=1"),
        ("poll", "?timestamp_utc__year=2023&timestamp_utc__month=1"),
        ("poll", "?timestamp_utc__year=2023&timestamp_utc__month=1&timestamp_utc__day=23&status__exact=active"),
        ("poll", "?o=2"),
        ("businesshours", ""),
        ("businesshours", "?q=1"),
        ("businesshours", "?day_of_week__exact=6&q=1"),
    ],
)
def test_every_changelist_renders_with_search_and_filters(
    admin_client: Client, stores: None, name: str, query: str
) -> None:
    response = admin_client.get(changelist(name) + query)

    assert response.status_code == 200
    assert "?e=1" not in response.get("Location", "")


def test_the_store_list_shows_zone_hours_rows_polls_and_last_poll(admin_client: Client, stores: None) -> None:
    response = admin_client.get(changelist("store"))

    rows = {store.id: store for store in response.context["cl"].result_list}
    assert (rows["1"].hours_rows, rows["1"].poll_count, rows["1"].last_poll_at) == (2, 2, at(23, 11))
    assert (rows["2"].hours_rows, rows["2"].poll_count, rows["2"].last_poll_at) == (0, 0, None)
    content = response.content.decode()
    assert "— (America/Chicago)" in content
    assert "0 (24x7)" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?timezone_set=yes", ["1"]),
        ("?timezone_set=no", ["10", "2"]),
        ("?schedule=hours", ["1"]),
        ("?schedule=24x7", ["10", "2"]),
        ("?polled=yes", ["1", "10"]),
        ("?polled=no", ["2"]),
        ("?q=1", ["1", "10"]),
    ],
)
def test_store_filters_and_search_select_the_right_stores(
    admin_client: Client, stores: None, query: str, expected: list[str]
) -> None:
    response = admin_client.get(changelist("store") + query)

    assert [store.id for store in response.context["cl"].result_list] == expected


def test_the_store_list_runs_no_query_per_row(admin_client: Client, stores: None) -> None:
    with CaptureQueriesContext(connection) as few:
        admin_client.get(changelist("store"))
    for n in range(40):
        store = StoreFactory(id=f"9{n:03}")
        PollFactory(store=store)
        BusinessHoursFactory(store=store)

    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(changelist("store"))

    assert len(response.context["cl"].result_list) == 43
    assert len(many.captured_queries) == len(few.captured_queries)


def test_polls_and_hours_are_searched_by_exact_store_id(admin_client: Client, stores: None) -> None:
    polls = admin_client.get(changelist("poll") + "?q=+1+").context["cl"].result_list
    hours = admin_client.get(changelist("businesshours") + "?q=10").context["cl"].result_list

    assert {poll.store_id for poll in polls} == {"1"}
    assert len(polls) == 2
    assert list(hours) == []


def test_polls_are_listed_newest_first_within_a_store(admin_client: Client, stores: None) -> None:
    polls = admin_client.get(changelist("poll")).context["cl"].result_list

    assert [(poll.store_id, poll.timestamp_utc) for poll in polls] == [
        ("10", at(23, 12)),
        ("1", at(23, 11)),
        ("1", at(22, 10)),
    ]


def test_the_poll_list_never_counts_the_whole_table(admin_client: Client, stores: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(changelist("poll") + "?status__exact=active")

    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts)


def test_the_poll_list_says_more_than_the_cap_when_it_stops_counting(
    admin_client: Client, stores: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)

    capped = admin_client.get(changelist("poll"))
    exact = admin_client.get(changelist("poll") + "?q=10")

    assert "more than 2 polls" in capped.content.decode()
    assert capped.context["cl"].result_count == 2
    assert "1 poll\n" in exact.content.decode()


def test_the_poll_date_hierarchy_offers_the_days_that_have_polls(admin_client: Client, stores: None) -> None:
    content = admin_client.get(changelist("poll")).content.decode()

    assert "timestamp_utc__day=22" in content
    assert "timestamp_utc__day=23" in content
    assert "timestamp_utc__day=24" not in content


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_indexed_dates_match_djangos_own_datetimes(kind: str) -> None:
    store = StoreFactory(id="1")
    for moment in (
        datetime(2022, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2023, 1, 1, tzinfo=UTC),
        datetime(2023, 1, 22, 12, tzinfo=UTC),
        datetime(2023, 3, 1, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 23, tzinfo=UTC),
    ):
        PollFactory(store=store, timestamp_utc=moment)
    base = Poll.objects.all()
    indexed = IndexedDatesQuerySet(model=Poll, query=base.query, using=base.db)

    assert list(indexed.datetimes("timestamp_utc", kind)) == list(base.datetimes("timestamp_utc", kind))
    assert list(indexed.filter(timestamp_utc__year=2023).datetimes("timestamp_utc", kind)) == list(
        base.filter(timestamp_utc__year=2023).datetimes("timestamp_utc", kind)
    )


def test_indexed_dates_of_an_empty_selection_are_empty() -> None:
    base = Poll.objects.all()

    assert IndexedDatesQuerySet(model=Poll, query=base.query, using=base.db).datetimes("timestamp_utc", "day") == []


def test_the_change_pages_render_without_listing_every_store(admin_client: Client, stores: None) -> None:
    poll = Poll.objects.first()
    hours = BusinessHours.objects.first()
    assert poll is not None and hours is not None

    for url in (
        reverse("admin:stores_store_change", args=["1"]),
        reverse("admin:stores_poll_change", args=[poll.pk]),
        reverse("admin:stores_businesshours_change", args=[hours.pk]),
        reverse("admin:stores_poll_add"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert '<option value="10"' not in response.content.decode()


def test_editing_a_stores_timezone_applies_the_timezone_file_rule(admin_client: Client, stores: None) -> None:
    url = reverse("admin:stores_store_change", args=["2"])
    form = {
        "timezone": "Mars/Olympus",
        "business_hours-TOTAL_FORMS": "0",
        "business_hours-INITIAL_FORMS": "0",
    }

    refused = admin_client.post(url, form)
    accepted = admin_client.post(url, {**form, "timezone": " Europe/Paris "})

    assert refused.status_code == 200
    assert "unknown timezone &#x27;Mars/Olympus&#x27;" in refused.content.decode()
    assert accepted.status_code == 302
    assert Store.objects.get(id="2").timezone == "Europe/Paris"


def test_clearing_a_stores_timezone_stores_none(admin_client: Client, stores: None) -> None:
    Store.objects.filter(id="10").update(timezone="Asia/Tokyo")

    response = admin_client.post(
        reverse("admin:stores_store_change", args=["10"]),
        {"timezone": "  ", "business_hours-TOTAL_FORMS": "0", "business_hours-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 302
    assert Store.objects.get(id="10").timezone is None
