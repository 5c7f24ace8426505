"""Trigger dedupe: an equal trigger on unchanged data answers 200 with the existing report instead of a new one.

Equal: the same scope (organization or fleet), ``now``, period and SLA
target; unchanged: no poll, hours, zone or store owner changed since that
report was triggered (``stores.data_version``). Every change below goes
through the path a user takes (``/ingest/…``, the admin, ``prune``), and
every trigger through the HTTP stack.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ingestion.accounts import feed_account_ensure
from organizations.models import Membership, Organization
from reports.fanout.queue import report_trigger
from reports.models import Report
from stores.models import BusinessHours, Poll, Store
from tests.factories import BusinessHoursFactory, PollFactory
from tests.reports.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

LAST_WEEK = {"start": "2023-01-18T00:00:00Z", "end": "2023-01-25T00:00:00Z"}


def trigger(client: APIClient, **fields: str) -> tuple[int, str]:
    """POST /trigger_report; the status and the report id, checked against the Location header."""
    response = client.post("/trigger_report", fields, format="json")
    assert response.status_code in (200, 202), response.content
    report_id = response.json()["report_id"]
    location = urlsplit(response["Location"])
    assert (location.path, parse_qs(location.query)) == ("/get_report", {"report_id": [report_id]})
    return response.status_code, report_id


@pytest.fixture
def feed() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {feed_account_ensure(username='feed-bot')}")
    return client


def load(feed: APIClient, kind: str, text: str) -> None:
    response = feed.generic("POST", f"/ingest/{kind}", text.encode(), content_type="text/csv")
    assert response.status_code == 201, response.content


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


class TestTheSameTrigger:
    def test_twice_is_the_same_report_the_second_time_200_with_its_location(
        self, api_client: APIClient, week_of_polls: datetime
    ) -> None:
        first = trigger(api_client)
        second = trigger(api_client)

        assert first[0] == 202
        assert second == (200, first[1])
        assert Report.objects.count() == 1

    def test_a_period_twice_is_the_same_report(self, api_client: APIClient, week_of_polls: datetime) -> None:
        first = trigger(api_client, **LAST_WEEK, sla_target="99.5")
        again = trigger(api_client, **LAST_WEEK, sla_target="99.500")
        named = trigger(api_client, period="last_7_days")

        assert first[0] == 202
        assert again == (200, first[1])
        assert trigger(api_client, period="last_7_days") == (200, named[1])

    def test_an_explicit_as_of_equal_to_the_latest_poll_is_the_same_report(
        self, api_client: APIClient, week_of_polls: datetime
    ) -> None:
        _, report_id = trigger(api_client)

        assert trigger(api_client, as_of=NOW.isoformat()) == (200, report_id)

    def test_a_complete_report_is_reused_and_answers_as_complete(
        self, api_client: APIClient, week_of_polls: datetime, q_sync: None
    ) -> None:
        _, report_id = trigger(api_client)
        assert Report.objects.get(id=report_id).status == Report.Status.COMPLETE

        assert trigger(api_client) == (200, report_id)
        answer = api_client.get(f"/get_report?report_id={report_id}&format=json").json()
        assert answer["status"] == "Complete"

    def test_a_repeated_load_that_changes_nothing_keeps_the_report(
        self, api_client: APIClient, feed: APIClient, week_of_polls: datetime
    ) -> None:
        load(feed, "polls", f"store_id,status,timestamp_utc\nalways-up,active,{NOW.isoformat()}\n")
        _, report_id = trigger(api_client)

        load(feed, "polls", f"store_id,status,timestamp_utc\nalways-up,active,{NOW.isoformat()}\n")

        assert trigger(api_client) == (200, report_id)

    def test_fresh_computes_a_new_report_all_the_same(self, api_client: APIClient, week_of_polls: datetime) -> None:
        _, first = trigger(api_client)
        _, period = trigger(api_client, **LAST_WEEK)

        status, fresh = trigger(api_client, fresh="true")
        fresh_period = trigger(api_client, **LAST_WEEK, fresh="true")
        by_query = api_client.post("/trigger_report?fresh=1")

        assert (status, fresh != first) == (202, True)
        assert fresh_period[0] == 202 and fresh_period[1] != period
        assert by_query.status_code == 202
        assert Report.objects.count() == 5
        assert trigger(api_client)[0] == 200  # the newest equal one

    def test_succeeds_while_the_service_is_busy_as_it_starts_nothing(
        self, api_client: APIClient, settings: Settings, week_of_polls: datetime
    ) -> None:
        settings.REPORT_MAX_UNFINISHED = 1
        _, report_id = trigger(api_client)  # pending: no worker here

        assert trigger(api_client) == (200, report_id)
        busy = api_client.post("/trigger_report", {"as_of": "2023-01-24T00:00:00Z"}, format="json")
        assert busy.status_code == 503
        assert Report.objects.count() == 1


class TestChangedDataIsANewReport:
    def test_after_a_poll_load(self, api_client: APIClient, feed: APIClient, week_of_polls: datetime) -> None:
        _, before = trigger(api_client)
        _, period_before = trigger(api_client, **LAST_WEEK)

        # A backfilled poll before `now`: the same `now`, other data.
        backfill = NOW - timedelta(hours=2)
        load(feed, "polls", f"store_id,status,timestamp_utc\nnewcomer,inactive,{backfill.isoformat()}\n")

        status, after = trigger(api_client)
        assert (status, Report.objects.get(id=after).as_of) == (202, NOW)
        assert after != before
        assert trigger(api_client, **LAST_WEEK)[1] != period_before

    def test_after_a_status_corrected_by_a_later_load(
        self, api_client: APIClient, feed: APIClient, week_of_polls: datetime
    ) -> None:
        _, before = trigger(api_client)

        load(feed, "polls", f"store_id,status,timestamp_utc\nalways-up,inactive,{NOW.isoformat()}\n")

        assert trigger(api_client)[1] != before

    def test_after_an_hours_load(self, api_client: APIClient, feed: APIClient, week_of_polls: datetime) -> None:
        _, before = trigger(api_client)

        load(feed, "hours", "store_id,dayOfWeek,start_time_local,end_time_local\nalways-up,0,09:00:00,17:00:00\n")

        assert trigger(api_client)[1] != before

    def test_after_a_timezone_load(self, api_client: APIClient, feed: APIClient, week_of_polls: datetime) -> None:
        _, before = trigger(api_client)

        load(feed, "timezones", "store_id,timezone_str\nalways-up,Asia/Tokyo\n")

        assert trigger(api_client)[1] != before

    def test_after_a_store_changed_owner(self, week_of_polls: datetime, feed: APIClient) -> None:
        alpha = Organization.objects.create(slug="alpha", name="Alpha")
        Store.objects.filter(id="always-up").update(organization=alpha)
        anna = User.objects.create_user(username="anna")
        Membership.objects.create(user=anna, organization=alpha, role=Membership.Role.OWNER)
        client = token_client(anna)
        _, before = trigger(client)

        load(feed, "owners", "store_id,organization\nrecovered,alpha\n")

        status, after = trigger(client)
        assert (status, after != before) == (202, True)

    def test_after_an_admin_deletes_an_hours_row(self, api_client: APIClient, week_of_polls: datetime) -> None:
        shift = BusinessHours.objects.filter(store_id="office-hours").first()
        assert shift is not None
        admin = Client()
        admin.force_login(User.objects.create_superuser(username="root", password="x"))
        _, before = trigger(api_client)

        response = admin.post(reverse("admin:stores_businesshours_delete", args=[shift.pk]), {"post": "yes"})

        assert response.status_code == 302 and not BusinessHours.objects.filter(pk=shift.pk).exists()
        assert trigger(api_client)[1] != before

    def test_after_an_orm_save_of_a_poll(self, api_client: APIClient, week_of_polls: datetime) -> None:
        _, before = trigger(api_client)
        poll = Poll.objects.get(store_id="always-down")

        poll.status = "active"
        poll.save()

        assert trigger(api_client)[1] != before

    def test_after_retention_deleted_old_polls_but_not_after_it_deleted_none(
        self, api_client: APIClient, week_of_polls: datetime
    ) -> None:
        PollFactory(store=Store.objects.get(id="always-up"), timestamp_utc=NOW - timedelta(days=60))
        _, before = trigger(api_client)
        call_command("prune", "--poll-days", "35")
        _, after = trigger(api_client)

        call_command("prune", "--poll-days", "35")

        assert after != before
        assert trigger(api_client) == (200, after)


class TestOtherInputsAreANewReport:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ({}, {"as_of": "2023-01-24T00:00:00Z"}),
            ({}, LAST_WEEK),
            (LAST_WEEK, {**LAST_WEEK, "sla_target": "99.5"}),
            ({**LAST_WEEK, "sla_target": "99.5"}, {**LAST_WEEK, "sla_target": "99.9"}),
            (LAST_WEEK, {"start": "2023-01-18T00:00:00Z", "end": "2023-01-24T00:00:00Z"}),
            ({"period": "last_7_days"}, {"period": "previous_week"}),
        ],
    )
    def test_a_different_now_period_or_sla_target(
        self, api_client: APIClient, week_of_polls: datetime, first: dict[str, str], second: dict[str, str]
    ) -> None:
        _, one = trigger(api_client, **first)

        status, other = trigger(api_client, **second)

        assert (status, other != one) == (202, True)

    def test_a_failed_report_is_not_reused(self, api_client: APIClient, week_of_polls: datetime) -> None:
        _, failed = trigger(api_client)
        Report.objects.filter(id=failed).update(status=Report.Status.FAILED, error="a shard failed")

        status, retried = trigger(api_client)

        assert (status, retried != failed) == (202, True)
        assert trigger(api_client) == (200, retried)

    def test_a_complete_report_whose_file_is_gone_is_not_reused(
        self, api_client: APIClient, week_of_polls: datetime, q_sync: None
    ) -> None:
        _, gone = trigger(api_client)
        report = Report.objects.get(id=gone)
        report.csv_file.storage.delete(report.csv_file.name)

        status, again = trigger(api_client)

        assert (status, again != gone) == (202, True)


class TestTenants:
    @pytest.fixture
    def owners(self, week_of_polls: datetime) -> tuple[APIClient, APIClient]:
        """anna owns alpha, ben owns beta; each organization has stores of ``week_of_polls``."""
        clients = []
        for slug, username, stores in (("alpha", "anna", ["always-up"]), ("beta", "ben", ["recovered"])):
            organization = Organization.objects.create(slug=slug, name=slug)
            Store.objects.filter(id__in=stores).update(organization=organization)
            user = User.objects.create_user(username=username)
            Membership.objects.create(user=user, organization=organization, role=Membership.Role.OWNER)
            clients.append(token_client(user))
        return clients[0], clients[1]

    def test_an_equal_trigger_of_another_tenant_never_gets_its_report(
        self, owners: tuple[APIClient, APIClient], api_client: APIClient
    ) -> None:
        anna, ben = owners
        _, alphas = trigger(anna)

        _, betas = trigger(ben)
        _, fleet = trigger(api_client)

        assert len({alphas, betas, fleet}) == 3
        assert Report.objects.get(id=betas).organization.slug == "beta"  # type: ignore[union-attr]
        assert Report.objects.get(id=fleet).organization is None
        assert trigger(anna) == (200, alphas)
        assert trigger(ben) == (200, betas)
        assert ben.get(f"/get_report?report_id={alphas}&format=json").status_code == 404

    def test_staff_asking_for_an_organizations_report_get_its_equal_one(
        self, owners: tuple[APIClient, APIClient], api_client: APIClient
    ) -> None:
        anna, _ = owners
        _, alphas = trigger(anna)

        assert trigger(api_client, organization="alpha") == (200, alphas)


def test_the_admins_run_button_opens_the_equal_report(week_of_polls: datetime) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser(username="root", password="x"))
    run = reverse("admin:reports_report_run")
    first = admin.post(run)
    report = Report.objects.get()

    again = admin.post(run, follow=True)

    assert first.status_code == 302
    assert again.redirect_chain[-1][0] == reverse("admin:reports_report_change", args=[quote(report.id)])
    assert "Nothing has changed since report" in again.content.decode()
    assert Report.objects.count() == 1


def test_an_hours_row_saved_through_the_orm_is_a_change(api_client: APIClient, week_of_polls: datetime) -> None:
    _, before = trigger(api_client)

    BusinessHoursFactory(store=Store.objects.get(id="always-down"))

    assert trigger(api_client)[1] != before


@pytest.mark.django_db(transaction=True)
def test_two_equal_triggers_at_the_same_instant_give_one_report(week_of_polls: datetime) -> None:
    """Each trigger holds the triggers' lock for its transaction, so the second one waits and finds the first's report.

    Real transactions on two connections (threads), not the test's one transaction.
    """
    start = threading.Barrier(2)
    found: list[tuple[str, bool]] = []

    def trigger_now() -> None:
        try:
            start.wait()
            triggered = report_trigger(as_of=None)
            found.append((triggered.report.id, triggered.reused))
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger_now) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(reused for _, reused in found) == [False, True]
    assert len({report_id for report_id, _ in found}) == 1
    assert Report.objects.count() == 1
