"""On a generated dataset of the real shape, every store's outages add up to its downtime in the report.

One source of truth: the report's CSV (through the real fan-out), the
engine's exact numbers and the outages the store pages and the API show
must agree for every store, exactly in the engine's Fractions, and the
rounded sum must be the CSV's cell.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import pytest
from django.conf import settings

from devtools.generator import generate_dataset
from ingestion.services import hours_ingest, polls_ingest, timezones_ingest
from reports.engine.csv_row import HEADER, round_half_up
from reports.engine.intervals import business_intervals_for_week, outage_seconds_in_window, store_uptime
from reports.engine.units import DAY, HOUR, SECONDS_PER_HOUR, SECONDS_PER_MINUTE, WEEK, to_instant
from reports.fanout.queue import report_trigger
from reports.models import Report
from reports.outages import store_week_in_report
from reports.selectors import store_inputs
from reports.services import zone

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports", "q_sync"),
]

WINDOWS = [
    ("last_hour", HOUR, SECONDS_PER_MINUTE, "downtime_last_hour"),
    ("last_day", DAY, SECONDS_PER_HOUR, "downtime_last_day"),
    ("last_week", WEEK, SECONDS_PER_HOUR, "downtime_last_week"),
]


@pytest.fixture
def generated_data(tmp_path: Path) -> None:
    out_dir = tmp_path / "generated"
    generate_dataset(out_dir=out_dir, scale=0.01, seed=1, sample_dir=settings.BASE_DIR / "data" / "sample")
    timezones_ingest(path=out_dir / "timezones.csv")
    hours_ingest(path=out_dir / "menu_hours.csv")
    polls_ingest(path=out_dir / "store_status.csv")


def test_every_stores_outages_add_up_to_its_downtime_in_every_window_of_the_report(generated_data: None) -> None:
    report = Report.objects.get(id=report_trigger(as_of=None).report.id)
    assert report.status == Report.Status.COMPLETE and report.as_of is not None
    with report.csv_file.open("rb") as stored:
        rows = list(csv.DictReader(io.StringIO(stored.read().decode())))
    assert tuple(rows[0]) == HEADER
    now = to_instant(report.as_of)
    stores_with_outages = 0

    for row in rows:
        week = store_week_in_report(report=report, store_id=row["store_id"])
        assert week is not None, row["store_id"]
        # The engine as report_rows runs it, on inputs read afresh (nothing has changed since the report).
        [inputs] = store_inputs(report.as_of, [row["store_id"]])
        engine = store_uptime(inputs.polls, business_intervals_for_week(inputs.hours, zone(inputs.timezone), now), now)
        assert week.timeline.uptime == engine
        for name, length, unit, column in WINDOWS:
            inside = outage_seconds_in_window(week.timeline.outages, now - length, now)
            downtime = getattr(engine, name).down
            assert sum(inside, Fraction(0)) == downtime, (row["store_id"], name)
            assert round_half_up(sum(inside, Fraction(0)), unit) == row[column], (row["store_id"], name)
        assert sum((outage.seconds for outage in week.timeline.outages), Fraction(0)) == engine.last_week.down
        stores_with_outages += bool(week.timeline.outages)

    # The dataset has outages in runs; the check must have bitten on many stores.
    assert len(rows) > 100
    assert stores_with_outages > 10
