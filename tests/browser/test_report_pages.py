"""The report and store pages in a real browser: the charts render, and the numbers are the CSV's.

A live server runs the project; headless Chromium logs in to the admin through
its login form, opens a complete report's page, follows a worst-store link to
the store page, and reads what a person would see. The data is a generated
dataset of the real shape (about 140 stores), reported through the real
fan-out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from devtools.generator import generate_dataset
from ingestion.services import hours_ingest, polls_ingest, timezones_ingest
from reports.fanout.queue import report_trigger
from reports.models import Report

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

PASSWORD = "a-long-enough-password"


@pytest.fixture
def report(tmp_path: Path, q_sync: None) -> Report:
    data = tmp_path / "generated"
    generate_dataset(out_dir=data, scale=0.01, seed=1, sample_dir=settings.BASE_DIR / "data" / "sample")
    timezones_ingest(path=data / "timezones.csv")
    hours_ingest(path=data / "menu_hours.csv")
    polls_ingest(path=data / "store_status.csv")
    done = Report.objects.get(id=report_trigger(as_of=None).report.id)
    assert done.status == Report.Status.COMPLETE
    return done


def csv_rows(report: Report) -> list[dict[str, str]]:
    with report.csv_file.open("rb") as stored:
        return list(csv.DictReader(io.StringIO(stored.read().decode("utf-8"))))


def log_in(browser: webdriver.Chrome, live_server: LiveServer, django_user_model: type[User]) -> None:
    django_user_model.objects.create_superuser(username="owner", password=PASSWORD)
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("owner")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for_title(browser, "Site administration")


def wait_for_title(browser: webdriver.Chrome, text: str) -> None:
    """A click starts a navigation; wait until the new page is there, not just the old one unloading."""
    WebDriverWait(browser, 30).until(expected_conditions.title_contains(text))


def rendered_size(browser: webdriver.Chrome, element: WebElement) -> tuple[float, float]:
    box = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", element)
    return float(box[0]), float(box[1])


def text(browser: webdriver.Chrome, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text.strip()


def only_local_resources(browser: webdriver.Chrome, live_server: LiveServer) -> list[str]:
    """Every URL the page fetched that is not on the live server (there must be none: no CDN)."""
    urls: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name);"
    )
    return [url for url in urls if not url.startswith(live_server.url)]


def test_the_report_page_and_a_store_page_render_their_charts_with_the_csvs_numbers(
    browser: webdriver.Chrome,
    live_server: LiveServer,
    django_user_model: type[User],
    report: Report,
    screenshot: Callable[[str], None],
) -> None:
    rows = csv_rows(report)
    log_in(browser, live_server, django_user_model)

    browser.get(live_server.url + reverse("admin:reports_report_change", args=[quote(report.id)]))
    screenshot("report-page")

    histogram = browser.find_element(By.CSS_SELECTOR, "svg.chart.histogram")
    assert min(rendered_size(browser, histogram)) > 100
    bars = histogram.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) == 10
    counts = [int(bar.get_attribute("data-count") or "") for bar in bars]
    assert all(rendered_size(browser, bar)[1] > 0 for bar, count in zip(bars, counts, strict=True) if count)
    uptime = {row["store_id"]: Decimal(row["uptime_last_week"]) for row in rows}
    downtime = {row["store_id"]: Decimal(row["downtime_last_week"]) for row in rows}
    observed = [store for store in uptime if uptime[store] + downtime[store]]
    assert sum(counts) == len(observed)
    assert counts[9] == sum(
        1 for store in observed if uptime[store] / (uptime[store] + downtime[store]) >= Decimal("0.9")
    )
    assert text(browser, "#total-stores") == str(len(rows))
    assert Decimal(text(browser, "#total-business-hours")) == sum(uptime.values()) + sum(downtime.values())
    assert Decimal(text(browser, "#total-downtime-hours")) == sum(downtime.values())
    assert browser.find_element(By.ID, "uptime-buckets").get_attribute("class") == "visually-hidden"
    assert only_local_resources(browser, live_server) == []

    worst = browser.find_elements(By.CSS_SELECTOR, "#worst-stores tbody tr")
    expected = sorted((store for store in downtime if downtime[store]), key=lambda s: (-downtime[s], s))[:20]
    assert [row.find_element(By.CSS_SELECTOR, ".store-link").text for row in worst] == expected
    assert [Decimal(row.find_element(By.CSS_SELECTOR, ".downtime-week").text) for row in worst] == [
        downtime[store] for store in expected
    ]

    worst_store = expected[0]
    worst[0].find_element(By.CSS_SELECTOR, ".store-link").click()
    wait_for_title(browser, f"Store {worst_store}")
    screenshot("store-page")

    timeline = browser.find_element(By.CSS_SELECTOR, "svg.chart.timeline")
    assert min(rendered_size(browser, timeline)) > 100
    assert len(timeline.find_elements(By.CSS_SELECTOR, "g.day")) in (7, 8)
    down_spans = timeline.find_elements(By.CSS_SELECTOR, "rect.span.down")
    assert down_spans and all(rendered_size(browser, span)[0] > 0 for span in down_spans)
    assert timeline.find_elements(By.CSS_SELECTOR, "line.tick")
    row = next(row for row in rows if row["store_id"] == worst_store)
    week = browser.find_element(By.ID, "window-3")
    assert week.find_element(By.CSS_SELECTOR, ".downtime").text == f"{row['downtime_last_week']} h"
    assert week.find_element(By.CSS_SELECTOR, ".uptime").text == f"{row['uptime_last_week']} h"
    assert week.find_element(By.CSS_SELECTOR, ".csv").text == f"{row['uptime_last_week']} / {row['downtime_last_week']}"
    outages = browser.find_elements(By.CSS_SELECTOR, "#outages tr.outage")
    assert int(week.find_element(By.CSS_SELECTOR, ".outage-count").text) == len(outages) > 0
    total = sum((Decimal(outage.get_attribute("data-seconds") or "") for outage in outages), Decimal(0))
    assert (total / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal(row["downtime_last_week"])
    assert not browser.find_elements(By.ID, "csv-mismatch")
    assert only_local_resources(browser, live_server) == []
