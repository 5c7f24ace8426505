"""The admin's period report page: overall uptime, SLA met, most error budget spent, coverage, each store's outages.

Over ``week_of_polls`` and ``[NOW - 48 h, NOW)`` with a 99.5 % target, whose rows are worked
out in ``test_period_reports`` (LAST_TWO_DAYS_WITH_SLA).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from reports.admin import store_page_url
from reports.fanout.queue import report_trigger_period
from reports.models import Report
from tests.reports.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture
def staff(django_user_model: type[User]) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser(username="admin", password="x"))
    return client


@pytest.fixture
def period_report(settings: Settings, week_of_polls: datetime, q_sync: None) -> Report:
    settings.REPORT_SHARD_SIZE = 2
    triggered = report_trigger_period(as_of=None, start=NOW - timedelta(hours=48), end=NOW, sla_target=Decimal("99.5"))
    report = Report.objects.get(id=triggered.report.id)
    assert report.status == Report.Status.COMPLETE and report.shards_total == 3
    return report


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)<', html, re.S)
    assert match, element_id
    return match.group(1).strip()


def test_the_period_page_shows_overall_uptime_sla_met_and_coverage(staff: Client, period_report: Report) -> None:
    html = page(staff, reverse("admin:reports_report_change", args=[quote(period_report.id)]))

    assert text_of(html, "period-stores") == "5"
    # Uptime 8 + 48 + 48 = 104 h of 104 + 8 + 48 + 48 = 208 h measured: 50 %.
    assert text_of(html, "period-uptime-percent") == "50.00 %"
    assert text_of(html, "period-business-hours") == "208.00"
    assert text_of(html, "period-no-data-hours") == "197.50"
    assert text_of(html, "period-sla-met") == "2 of 5"
    # Coverage: 3.13, 2.08, 4.17, 4.17 in 0-10; 25.00 in 20-30.
    buckets = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td></tr>", html.split('id="coverage-buckets"')[1]
    )
    assert buckets[0] == ("0–10", "4") and buckets[2] == ("20–30", "1")
    assert '<svg id="coverage-histogram"' in html or 'id="coverage-histogram"' in html


def test_the_stores_that_spent_the_most_error_budget_come_first_with_links(
    staff: Client, period_report: Report
) -> None:
    html = page(staff, reverse("admin:reports_report_change", args=[quote(period_report.id)]))

    table = html.split('id="budget-stores"')[1].split("</table>")[0]
    stores = re.findall(r'class="store-link" href="([^"]+)">([^<]+)<', table)
    assert [store for _, store in stores] == ["always-down", "recovered", "office-hours", "always-up", "newcomer"]
    assert re.findall(r'class="number budget-left">([^<]+)<', table) == [
        "-2865.60",
        "-2865.60",
        "-475.20",
        "14.40",
        "14.40",
    ]
    assert stores[0][0] == store_page_url(period_report.id, "always-down")


def test_a_stores_page_lists_its_outages_over_the_period_in_local_time(staff: Client, period_report: Report) -> None:
    html = page(staff, store_page_url(period_report.id, "office-hours"))

    assert "1 outages over the period" in html
    # Down for the 8 business hours of the 24th: 09:00-17:00 Tokyo.
    assert "Tue 24 Jan 2023 09:00:00" in html and "Tue 24 Jan 2023 17:00:00" in html
    assert "8 h 00 min" in html
    assert "Asia/Tokyo" in html


def test_a_store_without_a_row_says_so(staff: Client, period_report: Report) -> None:
    assert 'id="no-row"' in page(staff, store_page_url(period_report.id, "nobody"))


def test_the_list_shows_the_kind_and_no_extended_link_for_a_period_report(staff: Client, period_report: Report) -> None:
    html = page(staff, reverse("admin:reports_report_changelist"))

    assert "period" in html
    assert f"/reports/{period_report.id}/download?columns=extended" not in html
