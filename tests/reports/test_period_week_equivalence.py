"""SEMANTICS v2's check on generated data: the fixed report's week columns are the period report of the week.

A 1 % data set over 10 days (about 140 real stores with their real hours and
zones, ~24k polls), loaded with ``ingest``; both reports written by
``build_report`` (byte for byte the workers' CSVs, see ``test_period_reports``).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from devtools.generator import HOURS_FILE, POLLS_FILE, TIMEZONES_FILE, generate_dataset
from reports.selectors import latest_poll_time
from tests.conftest import SAMPLE_DIR

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_fixed_reports_week_columns_are_the_period_report_of_the_week_on_generated_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate_dataset(out_dir=data, scale=0.01, seed=5, sample_dir=SAMPLE_DIR, days=10)
    call_command(
        "ingest",
        "--polls",
        str(data / POLLS_FILE),
        "--hours",
        str(data / HOURS_FILE),
        "--timezones",
        str(data / TIMEZONES_FILE),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    now = latest_poll_time()
    assert now is not None
    fixed, period = tmp_path / "fixed.csv", tmp_path / "period.csv"
    call_command("build_report", "--output", str(fixed), stderr=io.StringIO())
    start = (now - timedelta(hours=168)).isoformat()
    call_command(
        "build_report", "--start", start, "--end", now.isoformat(), "--output", str(period), stderr=io.StringIO()
    )

    fixed_week = {row["store_id"]: (row["uptime_last_week"], row["downtime_last_week"]) for row in rows(fixed)}
    period_week = {row["store_id"]: (row["uptime_hours"], row["downtime_hours"]) for row in rows(period)}
    assert len(fixed_week) > 100
    assert period_week == fixed_week
    # The generated week is a real one: some stores were down, some hours were not observed.
    assert any(down != "0.00" for _, down in period_week.values())
    assert any(row["no_data_hours"] != "0.00" for row in rows(period))
