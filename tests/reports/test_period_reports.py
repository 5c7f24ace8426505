"""Period reports end to end: trigger → django-q2 plan, shards, assembly → ``GET /get_report``, and ``build_report``.

The expected rows are worked out by hand from SEMANTICS v2 for ``week_of_polls``
(see its docstring in ``conftest``) over ``[NOW - 48 h, NOW)``:

* ``always-down``: one inactive poll 30 min before NOW: down all 48 h; observed from
  90 min before NOW: 46.5 h of no data, coverage 1.5/48 = 3.125 %.
* ``always-up``: its poll at NOW (the end: included) rules the period; observed 1 h.
* ``newcomer`` and ``recovered``: one poll a day before NOW, observed 2 h.
* ``office-hours`` (Tokyo 09-17 = 00-08 UTC): 16 business hours; inactive on the 24th
  at 06:00 UTC, active on the 25th at 04:00: down 8 h, up 8 h; each poll observes 2 h.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from organizations.models import Organization
from reports.models import Report
from reports.period_services import report_create_period
from tests.reports.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

PERIOD_HEADER = (
    "store_id,business_hours,uptime_hours,downtime_hours,no_data_hours,uptime_percent,coverage_percent,"
    "outages,longest_outage_minutes,mean_outage_minutes"
)
SLA_HEADER = PERIOD_HEADER + ",sla_target_percent,sla_met,error_budget_minutes_left"
LAST_TWO_DAYS_WITH_SLA = "\n".join(
    [
        SLA_HEADER,
        "always-down,48.00,0.00,48.00,46.50,0.00,3.13,1,2880.00,2880.00,99.50,no,-2865.60",
        "always-up,48.00,48.00,0.00,47.00,100.00,2.08,0,0.00,,99.50,yes,14.40",
        "newcomer,48.00,48.00,0.00,46.00,100.00,4.17,0,0.00,,99.50,yes,14.40",
        "office-hours,16.00,8.00,8.00,12.00,50.00,25.00,1,480.00,480.00,99.50,no,-475.20",
        "recovered,48.00,0.00,48.00,46.00,0.00,4.17,1,2880.00,2880.00,99.50,no,-2865.60",
        "",
    ]
)


def csv_body(response: Any) -> str:
    assert response["Content-Type"] == "text/csv", response.content
    return b"".join(response.streaming_content).decode("utf-8")


def build_period(tmp_path: Path, *args: str) -> str:
    output = tmp_path / "period.csv"
    call_command("build_report", *args, "--output", str(output), stderr=io.StringIO())
    return output.read_text(encoding="utf-8")


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_a_period_report_runs_on_the_workers_and_is_byte_for_byte_build_reports_csv(
    api_client: APIClient, week_of_polls: datetime, tmp_path: Path
) -> None:
    start = (NOW - timedelta(hours=48)).isoformat()
    response = api_client.post(
        "/trigger_report", {"start": start, "end": NOW.isoformat(), "sla_target": "99.5"}, format="json"
    )
    assert response.status_code == 202, response.content

    body = csv_body(api_client.get(response["Location"]))

    assert body == LAST_TWO_DAYS_WITH_SLA
    assert body == build_period(tmp_path, "--start", start, "--end", NOW.isoformat(), "--sla", "99.5")
    report = Report.objects.get(id=response.json()["report_id"])
    assert (report.kind, report.start, report.end, report.sla_target) == (
        "period",
        NOW - timedelta(hours=48),
        NOW,
        Decimal("99.5"),
    )
    assert report.shards_total == 1 and report.rows == 5


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_get_reports_json_says_kind_start_end_and_sla_target(api_client: APIClient, week_of_polls: datetime) -> None:
    period = api_client.post("/trigger_report", {"period": "last_7_days"}, format="json").json()["report_id"]
    fixed = api_client.post("/trigger_report").json()["report_id"]

    period_json = api_client.get("/get_report", {"report_id": period, "format": "json"}).json()
    fixed_json = api_client.get("/get_report", {"report_id": fixed, "format": "json"}).json()

    assert period_json["status"] == "Complete"
    assert (period_json["kind"], period_json["start"], period_json["end"], period_json["sla_target"]) == (
        "period",
        "2023-01-18T12:00:00Z",
        "2023-01-25T12:00:00Z",
        None,
    )
    assert fixed_json["status"] == "Complete"  # a fixed report's answer is unchanged: no period fields
    assert not {"kind", "start", "end", "sla_target"} & set(fixed_json)


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_the_fixed_reports_week_columns_are_the_period_report_of_the_week_store_by_store(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    fixed = api_client.post("/trigger_report").json()["report_id"]
    week = api_client.post("/trigger_report", {"period": "last_7_days"}, format="json").json()["report_id"]

    fixed_rows = csv_body(api_client.get("/get_report", {"report_id": fixed})).splitlines()[1:]
    period_rows = csv_body(api_client.get("/get_report", {"report_id": week})).splitlines()
    assert period_rows[0] == PERIOD_HEADER  # a fleet report has no SLA columns unless asked

    fixed_week = {row.split(",")[0]: (row.split(",")[3], row.split(",")[6]) for row in fixed_rows}
    period_week = {row.split(",")[0]: (row.split(",")[2], row.split(",")[3]) for row in period_rows[1:]}
    assert period_week == fixed_week
    assert len(fixed_week) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2023-01-25T12:00:00Z", "end": "2023-01-25T12:00:00Z"}, "end"),
        ({"start": "2023-01-25T13:00:00Z", "end": "2023-01-25T12:00:00Z"}, "end"),
        ({"start": "2022-10-23T11:59:59Z", "end": "2023-01-25T12:00:00Z"}, "end"),  # 93 days and 1 s
        ({"start": "2023-01-25T12:00:00Z"}, "non_field_errors"),
        ({"end": "2023-01-25T12:00:00Z"}, "non_field_errors"),
        ({"period": "last_7_days", "start": "2023-01-20T00:00:00Z", "end": "2023-01-25T00:00:00Z"}, "non_field_errors"),
        ({"period": "last_year"}, "period"),
        ({"start": "1899-12-31T00:00:00Z", "end": "1900-01-02T00:00:00Z"}, "start"),
        ({"start": "9998-12-30T00:00:00Z", "end": "9999-01-01T00:00:00Z"}, "end"),
        ({"start": "yesterday", "end": "2023-01-25T12:00:00Z"}, "start"),
        ({"period": "last_7_days", "sla_target": "100.5"}, "sla_target"),
        ({"period": "last_7_days", "sla_target": "99.9999"}, "sla_target"),
        ({"sla_target": "99.5"}, "non_field_errors"),
        ({"period": "month_to_date", "as_of": "2023-01-01T00:00:00Z"}, "period"),  # an empty month so far
    ],
)
def test_a_bad_period_is_a_400_with_a_json_message(
    api_client: APIClient, week_of_polls: datetime, body: dict[str, str], field: str
) -> None:
    response = api_client.post("/trigger_report", body, format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert field in response.json()["errors"], response.json()
    assert not Report.objects.exists()


def test_exactly_93_days_and_an_offset_are_accepted(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post(
        "/trigger_report", {"start": "2022-10-24T14:00:00+02:00", "end": "2023-01-25T12:00:00Z"}, format="json"
    )

    assert response.status_code == 202, response.content
    report = Report.objects.get(id=response.json()["report_id"])
    assert report.start == datetime(2022, 10, 24, 12, tzinfo=UTC)
    assert report.end - report.start == timedelta(days=93)


def test_a_trigger_without_a_period_is_still_the_fixed_report(api_client: APIClient, week_of_polls: datetime) -> None:
    response = api_client.post("/trigger_report")

    report = Report.objects.get(id=response.json()["report_id"])
    assert (report.kind, report.start, report.end, report.sla_target) == ("fixed", None, None, None)


def test_calendar_periods_of_an_organization_are_in_its_zone_and_take_its_sla_target(week_of_polls: datetime) -> None:
    tokyo = Organization.objects.create(
        slug="tokyo", name="Tokyo", timezone="Asia/Tokyo", sla_target_percent=Decimal("99.9")
    )

    report = report_create_period(as_of=None, name="previous_week", organization=tokyo)

    # NOW is Wednesday 2023-01-25 21:00 in Tokyo: the previous week is Monday 01-16 to Monday 01-23, Tokyo time.
    assert report.start == datetime(2023, 1, 15, 15, tzinfo=UTC)
    assert report.end == datetime(2023, 1, 22, 15, tzinfo=UTC)
    assert report.sla_target == Decimal("99.9")
    assert report.organization == tokyo


def test_a_fleet_period_report_has_no_sla_target_unless_given(week_of_polls: datetime) -> None:
    assert report_create_period(as_of=None, name="previous_month").sla_target is None
    report = report_create_period(as_of=None, name="previous_month", sla_target=Decimal("98"))
    assert (report.start, report.end, report.sla_target) == (
        datetime(2022, 12, 1, tzinfo=UTC),
        datetime(2023, 1, 1, tzinfo=UTC),
        Decimal("98"),
    )


def test_build_report_without_sla_writes_no_sla_columns(week_of_polls: datetime, tmp_path: Path) -> None:
    written = build_period(tmp_path, "--start", "2023-01-23 12:00:00", "--end", "2023-01-25 12:00:00")

    without_sla = [row.rsplit(",", 3)[0] for row in LAST_TWO_DAYS_WITH_SLA.splitlines()[1:]]
    assert written.splitlines() == [PERIOD_HEADER, *without_sla]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2023-01-25 12:00:00"], "give both --start and --end"),
        (["--start", "2023-01-25 12:00:00", "--end", "2023-01-25 12:00:00"], "must be before end"),
        (["--start", "2022-01-01", "--end", "2023-01-01"], "at most 93 days"),
        (["--start", "2023-01-20", "--end", "2023-01-25", "--sla", "101"], "from 0 to 100"),
        (["--start", "2023-01-20", "--end", "2023-01-25", "--sla", "nan"], "from 0 to 100"),
        (["--start", "2023-01-20", "--end", "2023-01-25", "--sla", "high"], "not a number"),
        (["--sla", "99"], "--sla is for a period report"),
        (["--start", "soon", "--end", "2023-01-25"], "--start 'soon' is not a time"),
    ],
)
def test_build_report_refuses_a_bad_period(week_of_polls: datetime, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("build_report", *args, stderr=io.StringIO())


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
@pytest.mark.usefixtures("q_sync")
def test_a_period_report_has_no_extended_columns_and_says_so_in_json(
    api_client: APIClient, week_of_polls: datetime
) -> None:
    report_id = api_client.post("/trigger_report", {"period": "last_7_days"}, format="json").json()["report_id"]

    response = api_client.get("/get_report", {"report_id": report_id, "columns": "extended"})

    assert response.status_code == 400
    assert "fixed reports" in response.json()["detail"]
    assert not Report.objects.get(id=report_id).extended_csv_file
