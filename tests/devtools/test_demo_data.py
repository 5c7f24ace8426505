"""``make run``'s demo: beside the real sample (every poll active), a generated week that shows downtime.

The sample's polls and ``demo_data`` are loaded by the real commands; the
report is triggered over HTTP and computed by django-q2's task code; the
store ``demo_user`` points at is asked for its outages over HTTP.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from devtools.demo import DEMO_STORES, newest_poll_in
from devtools.generator import POLLS_FILE
from reports.selectors import latest_poll_time
from stores.models import Poll
from tests.reports.conftest import api_client, q_sync, user  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

SAMPLE_POLLS = Path(django_settings.BASE_DIR) / "data" / "sample" / POLLS_FILE


@pytest.fixture
def demo_loaded(settings: Settings, tmp_path: Path) -> str:
    """The sample's polls, then ``demo_data`` twice (as two ``make run``); returns what the second printed."""
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True  # a local run, as make run makes it (pytest-django turns DEBUG off)
    call_command("ingest", "--polls", str(SAMPLE_POLLS), stdout=io.StringIO())
    call_command("demo_data", stdout=io.StringIO())
    polls_once = Poll.objects.count()
    again = io.StringIO()
    call_command("demo_data", stdout=again)
    assert Poll.objects.count() == polls_once  # idempotent
    return again.getvalue()


def test_the_demo_week_ends_at_the_samples_newest_poll_and_loads_once(demo_loaded: str) -> None:
    newest = newest_poll_in(SAMPLE_POLLS)

    assert latest_poll_time() == newest
    assert Poll.objects.filter(timestamp_utc__gt=newest).count() == 0
    assert f"for {DEMO_STORES} real stores" in demo_loaded
    assert re.search(r"polls: \d+ read, 0 new, 0 changed", demo_loaded)


def test_the_first_report_shows_downtime_a_spread_and_the_hinted_store_has_outages(
    demo_loaded: str,
    api_client: APIClient,  # noqa: F811
    q_sync: None,  # noqa: F811
) -> None:
    report_id = api_client.post("/trigger_report").json()["report_id"]
    response = api_client.get(f"/get_report?report_id={report_id}")
    assert response.status_code == 200 and response["X-Report-Status"] == "Complete"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    down = [row for row in rows if Decimal(row["downtime_last_week"]) > 0]
    deciles = set()
    for row in rows:
        up, downtime = Decimal(row["uptime_last_week"]), Decimal(row["downtime_last_week"])
        if up + downtime:
            deciles.add(int(10 * up / (up + downtime)))
    assert len(down) >= DEMO_STORES // 10
    assert len(deciles) >= 5  # the histogram of weekly uptime has a spread, not one bar at 100 %

    hints = io.StringIO()
    call_command("demo_user", stdout=hints)
    found = re.search(r"A store with outages: (\S+) \((\d+) outages", hints.getvalue())
    assert found is not None, hints.getvalue()
    store_id, outages = found.group(1), int(found.group(2))
    answer = api_client.get(f"/stores/{store_id}/outages").json()
    assert answer["count"] == outages > 0
    [hinted] = [row for row in rows if row["store_id"] == store_id]
    assert Decimal(hinted["downtime_last_week"]) > 0
    assert f"/admin/reports/report/REPORT_ID/stores/{store_id}/" in hints.getvalue()
