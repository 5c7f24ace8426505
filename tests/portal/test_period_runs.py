"""Period reports in the portal: the dashboard offers the last 30 days and the previous month beside the fixed one."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import Report
from tests.portal.conftest import Tenants
from tests.reports.conftest import RunQueuedTasks

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]


def owner(tenants: Tenants) -> Client:
    client = Client()
    client.force_login(tenants.alice)
    return client


def test_the_dashboard_offers_the_fixed_report_the_last_30_days_and_the_previous_month(tenants: Tenants) -> None:
    page = owner(tenants).get("/o/alpha/").content.decode()

    assert '<select name="period" id="run-period">' in page and '<label for="run-period">' in page
    assert 'value="last_30_days"' in page and 'value="previous_month"' in page and '<option value="">' in page


@pytest.mark.parametrize("period", ["last_30_days", "previous_month"])
def test_an_owner_runs_a_period_report_and_sees_its_page_and_a_stores_outages(
    tenants: Tenants, run_queued_tasks: RunQueuedTasks, period: str
) -> None:
    alice = owner(tenants)

    posted = alice.post("/o/alpha/run/", {"period": period})
    assert posted.status_code == 302
    report = Report.objects.get()
    assert (report.kind, report.organization.slug if report.organization else None) == ("period", "alpha")
    assert report.sla_target == tenants.alpha.sla_target_percent  # the organization's target
    assert run_queued_tasks() > 0

    report.refresh_from_db()
    assert report.status == "complete", report.error
    page = alice.get(f"/o/alpha/reports/{report.id}/").content.decode()
    assert 'id="period-report"' in page and 'id="report-overview"' not in page
    assert f'href="/o/alpha/reports/{report.id}/csv/"' in page
    dashboard = alice.get("/o/alpha/").content.decode()
    assert 'id="period-report"' in dashboard
    store = alice.get(f"/o/alpha/reports/{report.id}/stores/always-down/")
    assert store.status_code == 200
    assert 'id="period-store"' in store.content.decode()
    download = alice.get(f"/o/alpha/reports/{report.id}/csv/")
    assert b"".join(download.streaming_content).decode().startswith("store_id,business_hours,")


def test_an_unknown_period_is_a_400_and_starts_nothing(tenants: Tenants) -> None:
    answer = owner(tenants).post("/o/alpha/run/", {"period": "<script>last_year"})

    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/plain")
    assert Report.objects.count() == 0


def test_another_organizations_period_report_is_a_404(tenants: Tenants, run_queued_tasks: RunQueuedTasks) -> None:
    owner(tenants).post("/o/alpha/run/", {"period": "last_30_days"})
    run_queued_tasks()
    report = Report.objects.get()
    bob = Client()
    bob.force_login(tenants.bob)

    assert bob.get(f"/o/alpha/reports/{report.id}/").status_code == 404
    assert bob.get(f"/o/beta/reports/{report.id}/").status_code == 404
