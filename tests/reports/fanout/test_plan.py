"""The plan's shard sizes: a small first shard, full shards while plenty of stores are left, smaller ones at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_django.fixtures import Settings

from reports.fanout.plan import report_plan, shard_size
from reports.models import Report, ReportShard
from reports.services import report_create
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import BuildReportCsv, RunQueuedTasks

pytestmark = pytest.mark.django_db

NOW = datetime(2023, 1, 25, tzinfo=UTC)


def sizes_for(stores: int) -> list[int]:
    """The shard sizes the plan cuts ``stores`` stores into, when every store in scope has a poll."""
    sizes = []
    while stores:
        sizes.append(min(shard_size(stores, first=not sizes), stores))
        stores -= sizes[-1]
    return sizes


def test_the_first_shard_is_a_quarter_and_the_last_halve_what_is_left_down_to_a_quarter(settings: Settings) -> None:
    settings.REPORT_SHARD_SIZE = 2000

    assert sizes_for(13_584) == [500] + [2000] * 5 + [1542, 771, 500, 271]
    assert sizes_for(4000) == [500, 1750, 875, 500, 375]
    assert sizes_for(50) == [50]


def test_tiny_shard_sizes_still_make_progress(settings: Settings) -> None:
    settings.REPORT_SHARD_SIZE = 2

    assert sizes_for(5) == [2, 2, 1]  # no quarter of a 2-store shard: the first is cut like the others
    assert shard_size(0) == 1
    assert shard_size(0, first=True) == 1


def polled_stores(count: int, *, unpolled: int = 0) -> None:
    for number in range(count):
        store = StoreFactory(id=f"{2000000000000000000 + 2 * number}")
        PollFactory(store=store, timestamp_utc=NOW - timedelta(hours=number % 5))
    for number in range(unpolled):
        StoreFactory(id=f"{2000000000000000001 + 2 * number}")  # between the polled ones, never polled


@pytest.mark.parametrize(("polled", "unpolled", "expected"), [(10, 0, [1, 4, 3, 1, 1]), (10, 6, [1, 4, 4, 1])])
def test_the_plan_cuts_the_stores_into_those_sizes_and_every_store_gets_one_row(
    settings: Settings,
    build_report_csv: BuildReportCsv,
    run_queued_tasks: RunQueuedTasks,
    polled: int,
    unpolled: int,
    expected: list[int],
) -> None:
    """Stores without a poll count as left until the query passes them: the sizes are then larger, never wrong."""
    settings.REPORT_SHARD_SIZE = 4
    polled_stores(polled, unpolled=unpolled)
    report = report_create(as_of=None)

    report_plan(report_id=report.id)
    run_queued_tasks()

    report.refresh_from_db()
    shards = list(report.planned_shards().values_list("stores", flat=True))
    assert (report.status, report.stores_total, report.shards_total, shards) == (
        Report.Status.COMPLETE,
        polled,
        len(expected),
        expected,
    )
    with report.csv_file.open("rb") as handle:
        assert handle.read().decode("utf-8") == build_report_csv(NOW)
    assert ReportShard.objects.filter(report=report).count() == len(expected)
