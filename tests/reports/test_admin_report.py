"""The reports admin: the list of runs, a report's page read from its CSV, and a store's week in a report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import escape, unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from reports.admin import elapsed_text
from reports.fanout.queue import report_trigger
from reports.models import Report
from reports.presentation.overview import bucket_index, report_overview
from stores.models import Poll
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import HEADER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture
def staff(django_user_model: type[User]) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser(username="admin", password="x"))
    return client


@pytest.fixture
def report(settings: Settings, week_of_polls: datetime, q_sync: None) -> Report:
    """The complete report of ``week_of_polls``, over three shards."""
    settings.REPORT_SHARD_SIZE = 2
    return Report.objects.get(id=report_trigger(as_of=None).report.id)


def hand_made_report(csv_text: str) -> Report:
    done = Report(status=Report.Status.COMPLETE, as_of=datetime(2023, 1, 25, 12, tzinfo=UTC), rows=0)
    done.csv_file.save("hand.csv", ContentFile(csv_text.encode()), save=True)
    return done


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)<', html, re.S)
    assert match, element_id
    return match.group(1).strip()


class TestReportList:
    def test_the_list_shows_status_timings_rows_progress_and_a_download_link(
        self, staff: Client, report: Report
    ) -> None:
        running = {"as_of": report.as_of, "status": Report.Status.RUNNING}
        Report.objects.create(**running, planned_at=report.as_of, shards_total=4, shards_done=1)
        Report.objects.create(**running, shards_done=2)  # its plan is still writing shards

        html = page(staff, reverse("admin:reports_report_changelist"))

        assert report.id in html
        assert reverse("download_report", args=[report.id]) in html
        assert "25% (1/4 shards)" in html
        assert "planning (2 shards done so far)" in html
        assert "100%" in html
        assert '<td class="field-rows">5</td>' in html

    def test_the_list_filters_by_status(self, staff: Client, report: Report) -> None:
        failed = Report.objects.create(as_of=report.as_of, status=Report.Status.FAILED, error="boom")

        html = page(staff, reverse("admin:reports_report_changelist") + "?status__exact=failed")

        assert failed.id in html and report.id not in html

    def test_reports_are_neither_added_edited_nor_deleted_here(self, staff: Client, report: Report) -> None:
        assert staff.get(reverse("admin:reports_report_add")).status_code == 403
        assert staff.post(reverse("admin:reports_report_delete", args=[quote(report.id)])).status_code == 403
        assert Report.objects.filter(id=report.id).exists()

    def test_a_duration_is_in_seconds_when_short_and_in_hours_when_long(self) -> None:
        assert elapsed_text(timedelta(seconds=3.25)) == "3.2 s"
        assert elapsed_text(timedelta(hours=1, minutes=5)) == "1 h 05 min"


class TestReportPage:
    def test_the_totals_are_read_from_the_csv(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        # Weekly uptime + downtime of the five rows: 168 + 168 + 168 + 56 + 168.
        assert text_of(html, "total-stores") == "5"
        assert text_of(html, "total-business-hours") == "728.00"
        assert text_of(html, "total-downtime-hours") == "224.00"
        assert text_of(html, "total-uptime-percent") == "69.23 %"  # 504 / 728

    def test_the_histogram_is_an_accessible_svg_with_a_table_of_its_counts(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart histogram"') :]
        svg = svg[: svg.index("</svg>")]
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
        assert re.findall(r'class="bar" data-count="(\d+)"', svg) == ["1", "0", "0", "0", "0", "0", "0", "1", "1", "2"]
        assert "<script" not in html[html.index('id="report-overview"') : html.index("</svg>")]
        table = html[html.index('id="uptime-buckets"') : html.index("</table>", html.index('id="uptime-buckets"'))]
        assert "<td>2</td>" in table and "90–100 (incl. 100)" in table

    def test_the_worst_stores_link_to_their_store_pages(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        worst = html[html.index('id="worst-stores"') :]
        worst = worst[: worst.index("</table>")]
        assert re.findall(r'class="store-link" href="[^"]+">([^<]+)<', worst) == [
            "always-down",
            "recovered",
            "office-hours",
        ]
        assert reverse("admin:reports_report_store", args=[report.id, "always-down"]) in worst

    def test_the_first_rows_of_the_csv_are_shown_as_a_table(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        preview = html[html.index('id="csv-preview"') :]
        preview = preview[: preview.index("</table>")]
        assert all(f">{column}<" in preview for column in HEADER.split(","))
        assert "<td>always-down</td>" in preview and '<td class="number">168.00</td>' in preview
        assert f'href="{reverse("download_report", args=[report.id])}"' in html

    def test_a_running_report_shows_its_details_without_an_overview(self, staff: Client, report: Report) -> None:
        running = Report.objects.create(as_of=report.as_of)

        html = page(staff, reverse("admin:reports_report_change", args=[quote(running.id)]))

        assert 'id="report-overview"' not in html and running.id in html

    def test_a_report_whose_file_is_gone_says_so(self, staff: Client, report: Report) -> None:
        assert report.csv_file.name
        report.csv_file.storage.delete(report.csv_file.name)

        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        assert "no longer stored" in html

    def test_its_shards_are_listed_read_only(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))

        assert html.count('<td class="field-index">') == 3
        assert "rows_csv" not in html


class TestOverviewFromTheCsv:
    def test_unobserved_stores_have_no_percentage_and_100_percent_is_in_the_last_bucket(self) -> None:
        done = hand_made_report(f"{HEADER}\na,0.00,0.00,0.00,0.00,0.00,0.00\nb,1.00,2.00,10.00,0.00,0.00,0.00\n")

        overview = report_overview(done)

        assert (overview.stores, overview.observed_stores, overview.unobserved_stores) == (2, 1, 1)
        assert [bucket.stores for bucket in overview.buckets] == [0] * 9 + [1]
        assert overview.worst == []

    def test_bucket_edges_belong_to_the_bucket_above(self) -> None:
        assert [bucket_index(Decimal(p), 10) for p in ["0", "9.99", "10", "89.99", "90", "100"]] == [0, 0, 1, 8, 9, 9]

    def test_ties_in_downtime_go_to_the_smaller_store_id(self) -> None:
        rows = "".join(f"s{n},0.00,0.00,0.00,0.00,0.00,{5 if n % 2 else 1}.00\n" for n in range(30))

        overview = report_overview(hand_made_report(f"{HEADER}\n{rows}"), worst=3)

        assert [row.store_id for row in overview.worst] == ["s1", "s11", "s13"]


class TestStorePage:
    def test_it_shows_the_csv_row_the_timeline_and_the_outages(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_store", args=[report.id, "office-hours"]))

        assert "Asia/Tokyo" in html
        week_row = html[html.index('id="window-3"') :]
        week_row = week_row[: week_row.index("</tr>")]
        assert "48.00 h" in week_row and "8.00 h" in week_row and "48.00 / 8.00" in week_row
        assert 'id="csv-mismatch"' not in html
        assert html.count('<g class="day"') == 8
        assert 'class="chart timeline"' in html and 'role="img"' in html
        outages = html[html.index('id="outages"') :]
        assert outages.count('<tr class="outage"') == 1
        assert "Tue 24 Jan 09:00:00" in outages and "Tue 24 Jan 17:00:00" in outages  # local
        assert "2023-01-24 00:00:00" in outages and "2023-01-24 08:00:00" in outages  # UTC
        assert "8 h 00 min" in outages and "Tue 24 Jan 06:00:00" in outages

    def test_the_timeline_has_a_table_of_each_days_numbers(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:reports_report_store", args=[report.id, "office-hours"]))

        table = html[html.index('id="timeline-days"') :]
        table = table[: table.index("</table>")]
        assert '<th scope="row">Tue 24 Jan</th><td>8 h 00 min</td><td>0 s</td><td>8 h 00 min</td>' in table

    def test_a_store_without_a_row_in_the_report_says_so(self, staff: Client, report: Report) -> None:
        StoreFactory(id="silent")

        html = page(staff, reverse("admin:reports_report_store", args=[report.id, "silent"]))

        assert 'id="no-row"' in html
        assert "Wed 18 Jan 2023 12:00" in html and "Wed 25 Jan 2023 12:00" in html  # the week, in UTC

    def test_a_store_whose_polls_changed_since_the_report_is_flagged(self, staff: Client, report: Report) -> None:
        Poll.objects.filter(store_id="always-up").update(status="inactive")

        html = page(staff, reverse("admin:reports_report_store", args=[report.id, "always-up"]))

        assert 'id="csv-mismatch"' in html

    def test_polls_stored_after_the_report_do_not_show(self, staff: Client, report: Report) -> None:
        assert report.as_of is not None
        PollFactory(
            store=StoreFactory(id="always-up"), timestamp_utc=report.as_of - timedelta(hours=5), status="inactive"
        )

        html = page(staff, reverse("admin:reports_report_store", args=[report.id, "always-up"]))

        assert 'id="csv-mismatch"' not in html and "No outage this week." in html

    def test_an_odd_store_id_round_trips_through_the_url(self, staff: Client, week_of_polls: datetime) -> None:
        PollFactory(store=StoreFactory(id="north/7 ?#"), timestamp_utc=week_of_polls, status="inactive")
        unplanned = Report.objects.create(as_of=week_of_polls)  # no shards: read from the database at as_of

        html = page(staff, reverse("admin:reports_report_store", args=[unplanned.id, "north/7 ?#"]))

        assert "Store north/7 ?#" in html and 'id="outages"' in html

    @pytest.mark.parametrize("store_id", ["a/../b", "..", ".", "50%_2F off?#&x=1"])
    def test_every_link_to_a_store_page_reaches_that_store_as_a_browser_follows_it(
        self, staff: Client, week_of_polls: datetime, q_sync: None, store_id: str
    ) -> None:
        PollFactory(store=StoreFactory(id=store_id), timestamp_utc=week_of_polls, status="inactive")
        report = Report.objects.get(id=report_trigger(as_of=None).report.id)
        report_page = page(staff, reverse("admin:reports_report_change", args=[quote(report.id)]))
        store_admin_page = page(staff, reverse("admin:stores_store_change", args=[quote(store_id)]))
        hrefs = [
            *re.findall(r'class="store-link" href="([^"]+)">' + re.escape(escape(store_id)) + "<", report_page),
            *re.findall(r'id="store-timeline-link" href="([^"]+)"', store_admin_page),
        ]

        assert len(hrefs) == 2
        for href in hrefs:
            # What a browser requests: the link resolved against the page, dot segments removed.
            followed = urlsplit(urljoin("http://testserver/admin/reports/report/", unescape(href))).path
            assert f"| Store {escape(store_id)} |" in page(staff, followed), followed

    def test_a_report_whose_id_looks_quoted_to_the_admin_opens_and_its_store_page_links_back_to_it(
        self, staff: Client, week_of_polls: datetime
    ) -> None:
        # Report ids are base64url: "_3E" in one is what the admin's unquote reads as ">" (found by a flaky run).
        odd = Report.objects.create(id="Ab_3Ecd_2F-ef_5Fgh_30ij", as_of=week_of_polls)

        assert "Ab_3Ecd_2F-ef_5Fgh_30ij" in page(staff, reverse("admin:reports_report_change", args=[quote(odd.id)]))
        store_page = page(staff, reverse("admin:reports_report_store", args=[odd.id, "always-up"]))
        assert f'href="{reverse("admin:reports_report_change", args=[quote(odd.id)])}"' in store_page

    def test_the_store_admin_links_to_the_store_page_of_the_latest_report(self, staff: Client, report: Report) -> None:
        html = page(staff, reverse("admin:stores_store_change", args=["office-hours"]))

        assert reverse("admin:reports_report_store", args=[report.id, "office-hours"]) in html

    def test_anyone_but_staff_is_sent_to_the_login_page(self, report: Report, django_user_model: type[User]) -> None:
        url = reverse("admin:reports_report_store", args=[report.id, "office-hours"])
        visitor = Client()
        visitor.force_login(django_user_model.objects.create_user(username="visitor"))

        for client in (Client(), visitor):
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_stored_file_that_is_not_a_report_csv_is_reported_on_the_page(staff: Client) -> None:
    odd = hand_made_report("store_id,uptime_last_hour\nsecret-store,60.00\n")

    html = page(staff, reverse("admin:reports_report_change", args=[quote(odd.id)]))

    assert "is not a report CSV" in html and 'id="report-overview"' not in html
