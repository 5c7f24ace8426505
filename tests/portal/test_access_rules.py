"""Who may open each portal page: anonymous visitors log in first, another tenant gets the 404 of a missing object.

Every portal route is listed in ``PAGES`` (a test checks the list against the
URL conf), and each one proves the four rules: anonymous → the login page,
another organization's member → 404 exactly like a missing id, a member →
200, a viewer → no Run button and 403 on the run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from organizations.models import Organization
from portal import urls as portal_urls
from reports.models import Report
from reports.presentation.pages import store_url_segment
from stores.models import Poll
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.factories import PollFactory, StoreFactory
from tests.portal.conftest import Tenants, logged_in
from tests.reports.conftest import NOW

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

MISSING_REPORT = "NoSuchReport-000000000"


MISSING_SUBSCRIPTION = "NoSuchSubscription"


def page_urls(slug: str, report_id: str, store_id: str, subscription_id: str = MISSING_SUBSCRIPTION) -> dict[str, str]:
    """Every page of an organization (GET), by URL name."""
    store = store_url_segment(store_id)
    return {
        "subscriptions": reverse("portal:subscriptions", args=[slug]),
        "subscription": reverse("portal:subscription", args=[slug, subscription_id]),
        "dashboard": reverse("portal:dashboard", args=[slug]),
        "reports": reverse("portal:reports", args=[slug]),
        "report": reverse("portal:report", args=[slug, report_id]),
        "status": reverse("portal:status", args=[slug, report_id]),
        "csv": reverse("portal:csv", args=[slug, report_id]),
        "extended_csv": reverse("portal:extended_csv", args=[slug, report_id]),
        "store": reverse("portal:store", args=[slug, report_id, store]),
    }


# Pages not under an organization, and the POSTs: each has its own tests (below; tests/portal/test_subscriptions.py).
NOT_PER_ORGANIZATION = {
    "home",
    "login",
    "logout",
    "run",
    "subscription_rotate",
    "subscription_send",
    "subscription_delete",
}


def test_the_access_rules_cover_every_portal_route() -> None:
    names = {pattern.name for pattern in portal_urls.urlpatterns}
    assert names == set(page_urls("x", "y" * 22, "z")) | NOT_PER_ORGANIZATION
    assert "portal" in get_resolver().app_dict


def alpha_pages(alpha_report: Report) -> dict[str, str]:
    subscription = Subscription.objects.filter(organization__slug="alpha").first()
    if subscription is None:
        organization = Organization.objects.get(slug="alpha")
        subscription = subscription_create(
            organization=organization, cadence="weekly", send_hour=8, email_to=["ops@alpha.example"]
        ).subscription
    return page_urls("alpha", alpha_report.id, "always-down", subscription.id)


@pytest.mark.parametrize("name", sorted(page_urls("x", "y", "z")))
def test_an_anonymous_visitor_is_sent_to_the_portal_login(alpha_report: Report, name: str) -> None:
    url = alpha_pages(alpha_report)[name]

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("name", sorted(page_urls("x", "y", "z")))
def test_a_member_opens_every_page_of_their_organization(tenants: Tenants, alpha_report: Report, name: str) -> None:
    for user in (tenants.alice, tenants.victor, tenants.staff):
        response = logged_in(user).get(alpha_pages(alpha_report)[name])
        assert response.status_code == 200, (user, name)


@pytest.mark.parametrize("name", sorted(page_urls("x", "y", "z")))
def test_a_head_request_is_answered_like_the_get(tenants: Tenants, alpha_report: Report, name: str) -> None:
    url = alpha_pages(alpha_report)[name]

    assert logged_in(tenants.victor).head(url).status_code == 200
    assert logged_in(tenants.bob).head(url).status_code == 404


@pytest.mark.parametrize("name", sorted(page_urls("x", "y", "z")))
def test_another_tenant_gets_the_404_of_a_missing_object(
    tenants: Tenants, alpha_report: Report, beta_report: Report, name: str
) -> None:
    bob = logged_in(tenants.bob)
    others = alpha_pages(alpha_report)
    # The same page for something that does not exist: an unknown organization, report or store.
    missing = {
        "dashboard": page_urls("no-such-organization", MISSING_REPORT, "x")["dashboard"],
        "reports": page_urls("no-such-organization", MISSING_REPORT, "x")["reports"],
        "subscriptions": page_urls("no-such-organization", MISSING_REPORT, "x")["subscriptions"],
        "store": page_urls("beta", beta_report.id, "no-such-store")["store"],
    }.get(name, page_urls("beta", MISSING_REPORT, "newcomer")[name])

    theirs, absent = bob.get(others[name]), bob.get(missing)

    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert theirs["Content-Type"] == absent["Content-Type"] == "text/html; charset=utf-8"  # a page, not API JSON
    assert b"alpha" not in theirs.content and alpha_report.id.encode() not in theirs.content
    assert logged_in(tenants.outsider).get(others[name]).status_code == 404


def test_a_report_is_found_only_under_its_own_organization(
    tenants: Tenants, alpha_report: Report, beta_report: Report
) -> None:
    # alice belongs to both now; the alpha report under beta's slug is still a 404.
    tenants.beta.memberships.create(user=tenants.alice, role="viewer")
    alice = logged_in(tenants.alice)

    assert alice.get(reverse("portal:report", args=["beta", alpha_report.id])).status_code == 404
    assert alice.get(reverse("portal:report", args=["beta", beta_report.id])).status_code == 200
    assert alice.get(reverse("portal:report", args=["alpha", alpha_report.id])).status_code == 200


def test_a_store_of_another_organization_is_a_404_in_ones_own_report(tenants: Tenants, alpha_report: Report) -> None:
    alice = logged_in(tenants.alice)

    assert alice.get(reverse("portal:store", args=["alpha", alpha_report.id, "newcomer"])).status_code == 404
    assert alice.get(reverse("portal:store", args=["alpha", alpha_report.id, "always-up"])).status_code == 200


def test_a_fleet_report_is_not_a_page_of_any_organization(tenants: Tenants, alpha_report: Report) -> None:
    fleet = Report.objects.create(organization=None, status=Report.Status.COMPLETE)

    for user in (tenants.alice, tenants.staff):
        assert logged_in(user).get(reverse("portal:report", args=["alpha", fleet.id])).status_code == 404


class TestRunningAReport:
    def test_an_owner_runs_their_organizations_report(self, tenants: Tenants, alpha_report: Report) -> None:
        # New data since alpha_report, so the run is a new report.
        PollFactory(store=StoreFactory(id="always-up"), timestamp_utc=NOW - timedelta(minutes=5))

        response = logged_in(tenants.alice).post(reverse("portal:run", args=["alpha"]))

        assert response.status_code == 302
        assert response["Location"] == reverse("portal:dashboard", args=["alpha"])
        newest = Report.objects.exclude(id=alpha_report.id).get()
        assert newest.organization == tenants.alpha
        assert newest.requested_by == tenants.alice
        assert newest.status == Report.Status.COMPLETE  # q_sync: the worker's task ran inside the trigger

    def test_a_run_on_unchanged_data_opens_the_equal_report_and_starts_nothing(
        self, tenants: Tenants, alpha_report: Report
    ) -> None:
        alice = logged_in(tenants.alice)

        response = alice.post(reverse("portal:run", args=["alpha"]))

        assert response.status_code == 302
        assert response["Location"] == reverse("portal:report", args=["alpha", alpha_report.id])
        assert Report.objects.get() == alpha_report
        assert "Nothing has changed since this report was run" in alice.get(response["Location"]).content.decode()

    def test_a_viewer_sees_no_button_and_gets_403_on_a_run(self, tenants: Tenants, alpha_report: Report) -> None:
        victor = logged_in(tenants.victor)

        assert b'id="run-report"' not in victor.get(reverse("portal:dashboard", args=["alpha"])).content
        assert b'id="run-report"' in logged_in(tenants.alice).get(reverse("portal:dashboard", args=["alpha"])).content
        assert victor.post(reverse("portal:run", args=["alpha"])).status_code == 403
        assert Report.objects.count() == 1

    def test_another_tenant_gets_404_and_an_anonymous_visitor_the_login_page(
        self, tenants: Tenants, alpha_report: Report
    ) -> None:
        url = reverse("portal:run", args=["alpha"])

        assert logged_in(tenants.bob).post(url).status_code == 404
        anonymous = Client().post(url)
        assert anonymous.status_code == 302 and anonymous["Location"] == f"/login/?next={url}"
        assert Report.objects.count() == 1

    def test_staff_run_any_organizations_report(self, tenants: Tenants, alpha_report: Report) -> None:
        assert logged_in(tenants.staff).post(reverse("portal:run", args=["beta"])).status_code == 302
        assert Report.objects.filter(organization=tenants.beta).count() == 1

    def test_a_run_without_the_csrf_token_is_refused(self, tenants: Tenants, alpha_report: Report) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(tenants.alice)

        assert client.post(reverse("portal:run", args=["alpha"])).status_code == 403
        assert Report.objects.count() == 1

    def test_runs_share_the_apis_per_user_trigger_rate(
        self, tenants: Tenants, alpha_report: Report, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # DRF copies DEFAULT_THROTTLE_RATES onto the throttle class at import; the settings fixture cannot reach it.
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"trigger_report": "2/hour"})
        alice = logged_in(tenants.alice)
        api = APIClient()
        api.force_authenticate(tenants.alice)

        # Both reuse alpha_report (nothing changed) and still count against the rate.
        assert api.post("/trigger_report", {"organization": "alpha"}).status_code == 200
        assert alice.post(reverse("portal:run", args=["alpha"])).status_code == 302
        refused = alice.post(reverse("portal:run", args=["alpha"]))

        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 3600
        assert b'id="too-many-runs"' in refused.content
        assert Report.objects.count() == 1
        assert logged_in(tenants.bob).post(reverse("portal:run", args=["beta"])).status_code == 302  # bob's own budget

    def test_a_run_before_any_poll_is_stored_says_there_is_nothing_to_report(self, tenants: Tenants) -> None:
        Poll.objects.all().delete()

        response = logged_in(tenants.alice).post(reverse("portal:run", args=["alpha"]), follow=True)

        assert response.redirect_chain == [("/o/alpha/", 302)]
        assert b"There is no poll data yet" in response.content
        assert not Report.objects.exists()

    def test_a_get_does_not_run_a_report(self, tenants: Tenants, alpha_report: Report) -> None:
        assert logged_in(tenants.alice).get(reverse("portal:run", args=["alpha"])).status_code == 405
        assert Report.objects.count() == 1


class TestHomeAndLogin:
    def test_home_sends_a_member_of_one_organization_to_its_dashboard(self, tenants: Tenants) -> None:
        response = logged_in(tenants.bob).get("/")

        assert response.status_code == 302 and response["Location"] == "/o/beta/"

    def test_a_member_of_several_picks_one(self, tenants: Tenants) -> None:
        tenants.beta.memberships.create(user=tenants.alice, role="viewer")
        alice = logged_in(tenants.alice)

        page = alice.get("/")
        assert page.status_code == 200
        assert b'href="/o/alpha/"' in page.content and b'href="/o/beta/"' in page.content
        assert alice.get("/?organization=beta")["Location"] == "/o/beta/"
        assert b'id="organization-select"' in alice.get("/o/alpha/").content
        assert logged_in(tenants.bob).get("/?organization=alpha").status_code == 404

    def test_someone_in_no_organization_is_told_so(self, tenants: Tenants) -> None:
        response = logged_in(tenants.outsider).get("/")

        assert response.status_code == 200 and b'id="no-organization"' in response.content

    def test_anonymous_home_is_the_login_page(self) -> None:
        assert Client().get("/")["Location"] == "/login/?next=/"

    def test_logging_in_and_out_with_djangos_auth_views(self, tenants: Tenants) -> None:
        client = Client(enforce_csrf_checks=False)
        login_page = client.get("/login/")
        assert login_page.status_code == 200
        assert b'<label for="id_username">' in login_page.content
        assert b'<label for="id_password">' in login_page.content

        wrong = client.post("/login/", {"username": "alice", "password": "wrong"})
        assert wrong.status_code == 200 and b'id="login-error"' in wrong.content

        right = client.post("/login/", {"username": "alice", "password": "a-long-enough-password", "next": "/"})
        assert right.status_code == 302 and right["Location"] == "/"
        assert client.get("/")["Location"] == "/o/alpha/"

        out = client.post("/logout/")
        assert out.status_code == 302 and out["Location"] == "/login/"
        assert client.get("/o/alpha/").status_code == 302

    def test_the_admin_keeps_its_own_login_page(self, tenants: Tenants) -> None:
        assert Client().get("/admin/")["Location"] == "/admin/login/?next=/admin/"
