"""The API through the one scoping rule: who triggers which report, and another tenant's objects are 404s."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from reports.models import Report
from stores.models import Store
from tests.organizations.conftest import ALPHA_STORES, BETA_STORES, Tenants
from tests.reports.conftest import CSV_AT_NOW, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture(autouse=True)
def _fresh_throttle() -> None:
    cache.clear()  # the trigger rate limit counts per user id in the cache


def trigger(client: APIClient, **body: str) -> Any:
    return client.post("/trigger_report", body, format="json")


def csv_of(client: APIClient, report_id: str) -> str:
    response = client.get(f"/reports/{report_id}/download")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


class TestTrigger:
    def test_a_member_of_one_organization_gets_its_report_without_naming_it(self, tenants: Tenants) -> None:
        response = trigger(tenants.client("alice"))

        assert response.status_code == 202, response.content
        assert Report.objects.get(id=response.json()["report_id"]).organization == tenants.alpha

    def test_a_viewer_may_not_trigger_and_is_told_so_in_json(self, tenants: Tenants) -> None:
        for body in ({}, {"organization": "alpha"}):
            response = trigger(tenants.client("vic"), **body)

            assert response.status_code == 403
            assert response.json()["detail"] == "only an owner of alpha may run its report"
        assert not Report.objects.exists()

    def test_a_member_of_several_must_name_one_and_is_told_the_choices(self, tenants: Tenants) -> None:
        response = trigger(tenants.client("carol"))

        assert response.status_code == 400
        message = "you are a member of several organizations; name one of: alpha, beta"
        assert response.json() == {"detail": f"organization: {message}", "errors": {"organization": [message]}}
        named = trigger(tenants.client("carol"), organization="beta")
        assert named.status_code == 202
        assert Report.objects.get().organization == tenants.beta

    def test_a_foreign_slug_answers_exactly_like_an_unknown_one(self, tenants: Tenants) -> None:
        foreign = trigger(tenants.client("bob"), organization="alpha")
        unknown = trigger(tenants.client("bob"), organization="gamma")

        assert (foreign.status_code, unknown.status_code) == (404, 404)
        assert foreign.json().keys() == unknown.json().keys()
        assert foreign.json()["detail"] == "no organization 'alpha'"
        assert unknown.json()["detail"] == "no organization 'gamma'"
        assert not Report.objects.exists()

    def test_staff_get_the_fleet_report_by_default_and_an_organizations_when_named(self, tenants: Tenants) -> None:
        staff = tenants.client("demo")

        fleet, alpha = trigger(staff), trigger(staff, organization="alpha")

        assert Report.objects.get(id=fleet.json()["report_id"]).organization is None
        assert Report.objects.get(id=alpha.json()["report_id"]).organization == tenants.alpha

    def test_a_user_of_no_organization_may_trigger_nothing(self, tenants: Tenants) -> None:
        response = trigger(tenants.client("nobody"))

        assert response.status_code == 403
        assert response.json()["detail"] == "you are a member of no organization"


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_an_organizations_rows_are_the_fleet_reports_rows_of_its_stores_through_the_worker(
    tenants: Tenants, run_queued_tasks: RunQueuedTasks
) -> None:
    alice, bob, staff = tenants.client("alice"), tenants.client("bob"), tenants.client("demo")
    ids = {name: trigger(client).json()["report_id"] for name, client in [("alpha", alice), ("beta", bob)]}
    ids["fleet"] = trigger(staff).json()["report_id"]

    run_queued_tasks()

    fleet = csv_of(staff, ids["fleet"])
    assert fleet == CSV_AT_NOW
    header, *rows = fleet.splitlines()
    for name, stores, client in [("alpha", ALPHA_STORES, alice), ("beta", BETA_STORES, bob)]:
        expected = [header, *(row for row in rows if row.split(",")[0] in stores)]
        assert csv_of(client, ids[name]).splitlines() == expected
        report = Report.objects.get(id=ids[name])
        assert (report.status, report.rows, report.stores_total) == (Report.Status.COMPLETE, len(stores), len(stores))


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_store_moved_after_the_trigger_stays_in_the_report_it_was_planned_in(
    tenants: Tenants, run_queued_tasks: RunQueuedTasks
) -> None:
    """The assignment is part of the report's snapshot: the plan fixes the stores, a later move changes nothing."""
    alice = tenants.client("alice")
    report_id = trigger(alice).json()["report_id"]
    run_queued_tasks(limit=1)  # the plan
    Store.objects.filter(id="always-up").update(organization=tenants.beta)
    run_queued_tasks()

    stores = [row.split(",")[0] for row in csv_of(alice, report_id).splitlines()[1:]]
    assert stores == ALPHA_STORES


class TestReads:
    @pytest.fixture
    def reports(self, tenants: Tenants) -> dict[str, Report]:
        made = {
            "fleet": Report.objects.create(as_of=tenants.now),
            "alpha": Report.objects.create(as_of=tenants.now, organization=tenants.alpha),
            "beta": Report.objects.create(as_of=tenants.now, organization=tenants.beta),
        }
        return made

    @pytest.mark.parametrize(
        ("user", "visible"),
        [("alice", {"alpha"}), ("vic", {"alpha"}), ("bob", {"beta"}), ("carol", {"alpha", "beta"}), ("nobody", set())],
    )
    def test_get_report_answers_another_tenants_report_exactly_like_a_missing_one(
        self, tenants: Tenants, reports: dict[str, Report], user: str, visible: set[str]
    ) -> None:
        client = tenants.client(user)
        missing = client.get("/get_report", {"report_id": "NoSuchReportId-12345", "format": "json"})
        for name, report in reports.items():
            response = client.get("/get_report", {"report_id": report.id, "format": "json"})
            if name in visible:
                assert response.status_code == 200
                assert response.json()["status"] == "Running"
            else:
                assert response.status_code == missing.status_code == 404
                assert response.json() == {"detail": f"no report with id {report.id!r}"}
                assert missing.json() == {"detail": "no report with id 'NoSuchReportId-12345'"}

    def test_the_download_and_extended_csv_of_another_tenants_report_are_404(
        self, tenants: Tenants, run_queued_tasks: RunQueuedTasks
    ) -> None:
        report_id = trigger(tenants.client("bob")).json()["report_id"]
        run_queued_tasks()

        for columns in ("default", "extended"):
            own = tenants.client("bob").get(f"/reports/{report_id}/download", {"columns": columns})
            foreign = tenants.client("alice").get(f"/reports/{report_id}/download", {"columns": columns})
            assert own.status_code == 200
            assert foreign.status_code == 404
            assert foreign.json() == {"detail": f"no complete report with id {report_id!r}"}

    @pytest.mark.parametrize(("store", "answer"), [("always-up", 200), ("always-down", 404), ("no-such", 404)])
    def test_outages_of_another_tenants_store_are_404_like_a_missing_store(
        self, tenants: Tenants, store: str, answer: int
    ) -> None:
        response = tenants.client("vic").get(f"/stores/{store}/outages")

        assert response.status_code == answer
        if answer == 404:
            assert response.json() == {"detail": f"no store with id {store!r}"}

    def test_an_unassigned_store_is_staffs_only(self, tenants: Tenants) -> None:
        Store.objects.filter(id="always-up").update(organization=None)

        assert tenants.client("alice").get("/stores/always-up/outages").status_code == 404
        assert tenants.client("demo").get("/stores/always-up/outages").status_code == 200


class TestReportList:
    def test_each_user_lists_what_they_may_see_newest_first(self, tenants: Tenants) -> None:
        fleet = Report.objects.create(as_of=tenants.now)
        alpha_old = Report.objects.create(as_of=tenants.now, organization=tenants.alpha)
        beta = Report.objects.create(as_of=tenants.now, organization=tenants.beta)
        alpha_new = Report.objects.create(as_of=tenants.now, organization=tenants.alpha, status=Report.Status.COMPLETE)

        def listed(user: str) -> list[str]:
            return [item["id"] for item in tenants.client(user).get("/reports").json()["results"]]

        assert listed("alice") == [alpha_new.id, alpha_old.id]
        assert listed("bob") == [beta.id]
        assert listed("nobody") == []
        assert listed("demo") == [alpha_new.id, beta.id, alpha_old.id, fleet.id]

    def test_an_item_has_id_status_organization_as_of_and_created(self, tenants: Tenants) -> None:
        Report.objects.create(as_of=tenants.now)
        report = Report.objects.create(as_of=tenants.now, organization=tenants.alpha, status=Report.Status.COMPLETE)

        body = tenants.client("demo").get("/reports", {"page_size": 1}).json()

        assert body["count"] == 2
        assert body["next"].endswith("/reports?page=2&page_size=1")
        [item] = body["results"]
        assert item == {
            "id": report.id,
            "status": "Complete",
            "organization": "alpha",
            "as_of": "2023-01-25T12:00:00Z",
            "created": item["created"],
        }
        fleet = tenants.client("demo").get("/reports", {"page_size": 1, "page": 2}).json()["results"][0]
        assert (fleet["organization"], fleet["status"]) == (None, "Running")
