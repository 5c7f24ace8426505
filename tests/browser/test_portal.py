"""The owner portal in a real browser: an owner logs in, runs a report, watches it complete, opens a store, downloads.

A live server runs the project and headless Chromium uses it as an owner
would, by keyboard where it matters. The report is computed by a real
``manage.py qcluster`` (django-q2's ORM broker, on the test database),
started only after the click, so the page must show the run in progress and
its script must poll the status and swap the finished report in. A second
organization's owner opening the first one's report or store URL gets the
same 404 page as for an id that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from reports.models import Report
from tests.browser.test_report_pages import only_local_resources, rendered_size, text, wait_for_title
from tests.portal.conftest import PASSWORD, Tenants, q_sync, tenants, week_of_polls  # noqa: F401
from tests.portal.conftest import alpha_report as alpha_report  # noqa: F401
from tests.reports.test_qcluster_live import REPORTS_DONE_WITHIN_SECONDS, Cluster, qcluster  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]


@pytest.fixture
def broker_env() -> Iterator[dict[str, str]]:
    """The cluster on the database broker only (the live cluster tests cover Redis)."""
    yield {"REDIS_URL": ""}


def log_in(browser: webdriver.Chrome, live_server: LiveServer, username: str) -> None:
    browser.get(f"{live_server.url}/")
    wait_for_title(browser, "Log in")
    browser.find_element(By.ID, "id_username").send_keys(username)
    password = browser.find_element(By.ID, "id_password")
    password.send_keys(PASSWORD)
    password.send_keys(Keys.ENTER)


def test_an_owner_runs_a_report_sees_it_complete_opens_a_store_and_downloads_the_csv(
    browser: webdriver.Chrome,
    live_server: LiveServer,
    tenants: Tenants,  # noqa: F811
    tmp_path: Path,
    request: pytest.FixtureRequest,
    screenshot: Callable[[str], None],
) -> None:
    log_in(browser, live_server, "alice")
    wait_for_title(browser, "Alpha Pizza")
    assert browser.current_url == f"{live_server.url}/o/alpha/"
    assert text(browser, "#no-report").startswith("No report yet.")
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip-link"

    browser.find_element(By.ID, "run-report").send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.ID, "report-progress")))
    screenshot("portal-progress")
    report = Report.objects.get()
    assert report.organization == tenants.alpha and report.status == Report.Status.PENDING
    assert text(browser, "#progress-status") == "Pending"
    assert browser.find_element(By.ID, "progress-bar").get_attribute("value") == "0"

    cluster: Cluster = request.getfixturevalue("qcluster")  # the worker starts only now
    try:
        WebDriverWait(browser, REPORTS_DONE_WITHIN_SECONDS).until(
            expected_conditions.presence_of_element_located((By.ID, "report-finished-note"))
        )
    except Exception:
        pytest.fail(f"not swapped in: {cluster.trouble()}\n{cluster.log_tail()}")
    screenshot("portal-complete")
    assert text(browser, "#report-finished-note") == "The report is complete."
    assert browser.switch_to.active_element.get_attribute("id") == "report-finished-note"
    # Swapped in by the script (a reload would have lost the mark), on the same address.
    assert browser.find_element(By.ID, "portal-main").get_attribute("data-swapped") == "true"
    assert browser.current_url == f"{live_server.url}/o/alpha/"
    assert not browser.find_elements(By.ID, "report-progress")
    assert Report.objects.get().status == Report.Status.COMPLETE
    assert text(browser, "#total-stores") == "3"
    assert text(browser, "#total-uptime-percent") == "57.14 %"
    histogram = browser.find_element(By.CSS_SELECTOR, "svg.chart.histogram")
    assert min(rendered_size(browser, histogram)) > 100
    assert histogram.get_attribute("aria-labelledby") == "uptime-histogram-title uptime-histogram-desc"
    assert [link.text for link in browser.find_elements(By.CSS_SELECTOR, "#worst-stores .store-link")] == [
        "always-down",
        "recovered",
    ]

    browser.find_element(By.LINK_TEXT, "recovered").send_keys(Keys.ENTER)
    wait_for_title(browser, "Store recovered")
    screenshot("portal-store")
    timeline = browser.find_element(By.CSS_SELECTOR, "svg.chart.timeline")
    assert min(rendered_size(browser, timeline)) > 100
    assert len(browser.find_elements(By.CSS_SELECTOR, "#outages tr.outage")) == 1
    assert browser.find_element(By.ID, "window-3").find_element(By.CSS_SELECTOR, ".downtime").text == "48.00 h"

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser.find_element(By.PARTIAL_LINK_TEXT, "Report of").click()
    wait_for_title(browser, f"Report {report.id}")
    browser.find_element(By.ID, "download-csv").click()
    saved = downloads / f"report-{report.id}.csv"
    deadline = time.monotonic() + 30
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    with Report.objects.get().csv_file.open("rb") as stored:
        assert saved.read_bytes() == stored.read()
    assert only_local_resources(browser, live_server) == []


def test_another_organizations_owner_gets_the_404_of_a_missing_report_or_store(
    browser: webdriver.Chrome,
    live_server: LiveServer,
    alpha_report: Report,  # noqa: F811
) -> None:
    log_in(browser, live_server, "bob")
    wait_for_title(browser, "Beta Burgers")

    pages = {}
    for path in (
        f"/o/alpha/reports/{alpha_report.id}/",
        f"/o/alpha/reports/{alpha_report.id}/stores/always-down/",
        f"/o/beta/reports/{alpha_report.id}/",
        f"/o/beta/reports/{alpha_report.id}/stores/always-down/",
        "/o/beta/reports/NoSuchReport-000000000/",
        "/o/alpha/",
    ):
        browser.get(f"{live_server.url}{path}")
        pages[path] = (browser.title, browser.find_element(By.TAG_NAME, "body").text)

    assert len(set(pages.values())) == 1, pages
    title, body = next(iter(pages.values()))
    assert "Not Found" in title + body
    assert "always-down" not in body and alpha_report.id not in body
