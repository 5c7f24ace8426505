"""What the portal's pages show: the report's numbers as the admin shows them, the CSVs, progress without JavaScript."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.views import REPORTS_PER_PAGE
from reports.extended_csv import EXTENDED_HEADER
from reports.models import Report
from tests.factories import PollFactory, StoreFactory
from tests.portal.conftest import Tenants, complete_report, logged_in
from tests.reports.conftest import ROW_ALWAYS_DOWN, ROW_ALWAYS_UP, ROW_RECOVERED_AT_NOW, RunQueuedTasks

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

ALPHA_CSV = "\n".join(
    [
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,"
        "downtime_last_week",
        ROW_ALWAYS_DOWN,
        ROW_ALWAYS_UP,
        ROW_RECOVERED_AT_NOW,
        "",
    ]
)


def element(html: bytes, element_id: str) -> str:
    """The text inside the element with ``element_id`` (up to its first closing tag), tags stripped."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html.decode(), re.S)
    assert found, element_id
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_dashboard_shows_the_latest_reports_uptime_histogram_and_worst_stores(
    tenants: Tenants, alpha_report: Report
) -> None:
    page = logged_in(tenants.victor).get("/o/alpha/").content

    # alpha: 168 + 120 h up, 168 + 48 h down over the week (the three rows above).
    assert element(page, "total-stores") == "3"
    assert element(page, "total-uptime-percent") == "57.14 %"
    assert element(page, "total-downtime-hours") == "216.00"
    assert b'<svg xmlns="http://www.w3.org/2000/svg" class="chart histogram" id="uptime-histogram" role="img"' in page
    worst = re.findall(rb'<a class="store-link" href="([^"]+)">([^<]+)</a>', page)
    assert worst == [
        (f"/o/alpha/reports/{alpha_report.id}/stores/always-down/".encode(), b"always-down"),
        (f"/o/alpha/reports/{alpha_report.id}/stores/recovered/".encode(), b"recovered"),
    ]
    assert b"csv-preview" not in page  # the first rows are the report page's
    assert b'http-equiv="refresh"' not in page  # nothing running, nothing to refresh


def test_the_report_page_has_the_admins_sections_and_portal_downloads(tenants: Tenants, alpha_report: Report) -> None:
    page = logged_in(tenants.alice).get(f"/o/alpha/reports/{alpha_report.id}/").content
    admin = logged_in(tenants.staff)
    tenants.staff.is_superuser = True
    tenants.staff.save()
    admin_page = admin.get(reverse("admin:reports_report_change", args=[quote(alpha_report.id)])).content

    def section(html: bytes) -> str:
        text = html.decode()
        return text[text.index('<section class="report-section" aria-labelledby="totals-heading">') :].split(
            '<section class="report-section" aria-labelledby="worst-heading">'
        )[0]

    assert section(page) == section(admin_page)  # one template, one context builder
    assert element(page, "download-csv") == "Download the CSV"
    assert f'href="/o/alpha/reports/{alpha_report.id}/csv/"' in page.decode()
    assert f'href="/o/alpha/reports/{alpha_report.id}/extended-csv/"' in page.decode()
    assert 'id="csv-preview"' in page.decode()


def test_the_csv_downloads_are_the_reports_files(tenants: Tenants, alpha_report: Report) -> None:
    viewer = logged_in(tenants.victor)

    plain = viewer.get(f"/o/alpha/reports/{alpha_report.id}/csv/")
    extended = viewer.get(f"/o/alpha/reports/{alpha_report.id}/extended-csv/")

    assert plain.status_code == 200 and plain["Content-Type"] == "text/csv"
    assert plain["Content-Disposition"] == f'attachment; filename="report-{alpha_report.id}.csv"'
    assert b"".join(plain.streaming_content).decode() == ALPHA_CSV
    assert extended["Content-Disposition"] == f'attachment; filename="report-{alpha_report.id}-extended.csv"'
    lines = b"".join(extended.streaming_content).decode().splitlines()
    assert lines[0] == ",".join(EXTENDED_HEADER)
    assert [line.split(",")[:7] for line in lines[1:]] == [row.split(",") for row in ALPHA_CSV.splitlines()[1:]]


def test_a_download_whose_file_is_gone_is_a_410_page(tenants: Tenants, alpha_report: Report) -> None:
    alpha_report.csv_file.delete(save=False)

    response = logged_in(tenants.alice).get(f"/o/alpha/reports/{alpha_report.id}/csv/")

    assert response.status_code == 410
    assert "no longer stored" in element(response.content, "download-problem")


def test_the_store_page_shows_the_week_timeline_and_the_outages(tenants: Tenants, alpha_report: Report) -> None:
    page = logged_in(tenants.alice).get(f"/o/alpha/reports/{alpha_report.id}/stores/recovered/").content.decode()

    assert 'class="chart timeline" id="store-timeline" role="img"' in page
    assert '<table class="visually-hidden" id="timeline-days">' in page
    assert len(re.findall(r'<tr class="outage"', page)) == 1  # down from the midpoint, 2 days ago, until now
    assert "Outages (1)" in page
    assert "csv-mismatch" not in page
    assert "stores_store_change" not in page and "/admin/" not in page  # no link into the staff's admin


def test_the_report_list_is_newest_first_and_paginated(tenants: Tenants, alpha_report: Report) -> None:
    now = timezone.now()
    older = [Report.objects.create(organization=tenants.alpha) for _ in range(REPORTS_PER_PAGE + 2)]
    for age, report in enumerate(older, start=1):
        Report.objects.filter(pk=report.pk).update(created_at=now - timedelta(hours=age))
    Report.objects.filter(pk=alpha_report.pk).update(created_at=now)
    Report.objects.create(organization=tenants.beta)  # not alpha's
    alice = logged_in(tenants.alice)

    first = alice.get("/o/alpha/reports/").content.decode()
    second = alice.get("/o/alpha/reports/?page=2").content.decode()

    ids = re.findall(r'data-report-id="([^"]+)"', first)
    assert ids == [alpha_report.id, *(report.id for report in older[: REPORTS_PER_PAGE - 1])]
    assert re.findall(r'data-report-id="([^"]+)"', second) == [report.id for report in older[REPORTS_PER_PAGE - 1 :]]
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert alice.get("/o/alpha/reports/?page=not-a-number").status_code == 200


def test_without_javascript_a_run_shows_its_progress_and_refreshes_until_complete(
    tenants: Tenants, run_queued_tasks: RunQueuedTasks
) -> None:
    # No q_sync: the tasks wait in django-q2's ORM broker until a worker (run_queued_tasks) takes them.
    alice = Client()
    alice.force_login(tenants.alice)

    posted = alice.post("/o/alpha/run/", follow=True)
    report = Report.objects.get()

    page = posted.content.decode()
    assert posted.redirect_chain == [("/o/alpha/", 302)]
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'id="refresh-link"' in page and 'id="report-progress"' in page
    assert element(posted.content, "progress-status") == "Pending"
    assert f'data-status-url="/o/alpha/reports/{report.id}/status/"' in page
    assert alice.get(f"/o/alpha/reports/{report.id}/status/").json() == {
        "report_id": report.id,
        "status": "pending",
        "status_display": "Pending",
        "progress": 0.0,
        "finished": False,
        "report_url": f"/o/alpha/reports/{report.id}/",
    }
    report_page = alice.get(f"/o/alpha/reports/{report.id}/").content.decode()
    assert 'http-equiv="refresh"' in report_page and 'id="report-overview"' not in report_page

    assert run_queued_tasks() > 0

    done = alice.get("/o/alpha/").content.decode()
    assert 'http-equiv="refresh"' not in done and 'id="report-progress"' not in done
    assert element(done.encode(), "total-stores") == "3"
    status = alice.get(f"/o/alpha/reports/{report.id}/status/").json()
    assert status["status"] == "complete" and status["finished"] and status["progress"] == 1.0


def test_a_failed_run_says_so_on_the_dashboard(tenants: Tenants, alpha_report: Report) -> None:
    failed = Report.objects.create(organization=tenants.alpha, status=Report.Status.FAILED, error="error abc123")

    page = logged_in(tenants.alice).get("/o/alpha/").content

    assert failed.id in element(page, "run-failed") and "abc123" in element(page, "run-failed")
    assert element(page, "total-stores") == "3"  # the latest complete report is still shown


@pytest.mark.usefixtures("q_sync")
def test_a_store_id_with_a_slash_and_dots_links_to_its_own_page(tenants: Tenants, week_of_polls: datetime) -> None:
    tricky = StoreFactory(id="a/../always-up", organization=tenants.alpha)
    PollFactory(store=tricky, timestamp_utc=week_of_polls - timedelta(minutes=10), status="inactive")
    report = complete_report(tenants.alpha)
    alice = logged_in(tenants.alice)

    dashboard = alice.get("/o/alpha/").content.decode()
    links = re.findall(r'<a class="store-link" href="([^"]+)">a/\.\./always-up</a>', dashboard)

    assert links == [f"/o/alpha/reports/{report.id}/stores/a_2F.._2Falways-up/"]
    page = alice.get(links[0]).content.decode()
    assert "<h1>Store a/../always-up</h1>" in page
    # Its own week (one inactive poll: down all week), not always-up's.
    assert re.search(r'id="window-3">\s*<th scope="row">last week</th>\s*<td class="number uptime">0.00 h</td>\s*'
                     r'<td class="number downtime">168.00 h</td>', page)
