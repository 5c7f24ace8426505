"""A report fanned out over shards: planned once, each shard counted once, recovered when a worker dies."""

from __future__ import annotations

import re
import threading
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django import db
from django.utils import timezone
from django_q.models import OrmQ
from pytest_django.fixtures import Settings

import reports.fanout.plan
import reports.fanout.queue
import reports.fanout.shards
from reports.engine.units import to_instant
from reports.fanout.assembly import report_assemble
from reports.fanout.plan import report_plan
from reports.fanout.recovery import report_recover
from reports.fanout.shards import shard_run
from reports.models import Report, ReportShard
from reports.services import consistent_read, report_create
from reports.snapshot import report_store_inputs
from stores.models import BusinessHours
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import CSV_AT_NOW, BuildReportCsv, RunQueuedTasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@pytest.fixture
def two_store_shards(settings: Settings) -> None:
    settings.REPORT_SHARD_SIZE = 2


@pytest.fixture
def queued_shards(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Shards queued by the code under test, collected instead of sent to a broker."""
    queued: list[int] = []
    monkeypatch.setattr(reports.fanout.queue, "queue_shard", queued.append)
    return queued


def csv_of(report: Report) -> str:
    report.refresh_from_db()
    with report.csv_file.open("rb") as handle:
        return handle.read().decode("utf-8")


@pytest.mark.usefixtures("two_store_shards")
def test_a_report_split_into_shards_is_assembled_into_the_build_report_csv(
    week_of_polls: datetime, build_report_csv: BuildReportCsv, run_queued_tasks: RunQueuedTasks
) -> None:
    report = report_create(as_of=None)
    reports.fanout.queue.queue_plan(report.id)

    ran = run_queued_tasks()

    report.refresh_from_db()
    assert (report.status, report.shards_total, report.shards_done, report.rows) == ("complete", 3, 3, 5)
    assert ran == 1 + 3 + 1  # the plan, one task per shard, then the extended CSV of the complete report
    assert csv_of(report) == CSV_AT_NOW == build_report_csv(week_of_polls)


@pytest.mark.usefixtures("two_store_shards")
def test_progress_counts_finished_shards(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)

    shard_run(shard_id=queued_shards[0])

    report.refresh_from_db()
    assert report.status == "running"
    assert report.progress == pytest.approx(1 / 3)


@pytest.mark.usefixtures("two_store_shards")
def test_a_shard_run_twice_is_counted_once(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)

    for shard_id in [queued_shards[0], queued_shards[0], *queued_shards[1:], queued_shards[-1]]:
        shard_run(shard_id=shard_id)

    report.refresh_from_db()
    assert (report.status, report.shards_done, report.stores_done) == ("complete", 3, 5)
    assert csv_of(report) == CSV_AT_NOW


def test_planning_twice_plans_once(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)

    report_plan(report_id=report.id)
    report_plan(report_id=report.id)

    assert ReportShard.objects.filter(report=report).count() == 1
    assert len(queued_shards) == 1


@pytest.mark.usefixtures("two_store_shards")
def test_a_shard_abandoned_by_a_dead_worker_is_run_again_and_the_numbers_are_right(
    week_of_polls: datetime, queued_shards: list[int]
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    dead, *alive = queued_shards
    long_ago = timezone.now() - timedelta(minutes=10)
    ReportShard.objects.filter(id=dead).update(status="running", attempts=1, claimed_at=long_ago, claimed_by="gone:1")
    Report.objects.filter(id=report.id).update(planned_at=long_ago, plan_renewed_at=long_ago)
    for shard_id in alive:
        shard_run(shard_id=shard_id)
    queued_shards.clear()

    report_recover(Report.objects.get(id=report.id))
    assert queued_shards == [dead]
    shard_run(shard_id=dead)

    report.refresh_from_db()
    assert report.status == "complete"
    assert ReportShard.objects.get(id=dead).attempts == 2
    assert csv_of(report) == CSV_AT_NOW


def test_a_live_shard_is_not_taken_from_its_worker(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    ReportShard.objects.filter(id=queued_shards[0]).update(status="running", attempts=1, claimed_at=timezone.now())

    shard_run(shard_id=queued_shards[0])

    assert ReportShard.objects.get(id=queued_shards[0]).status == "running"
    assert Report.objects.get(id=report.id).status == "running"


def test_a_shard_that_keeps_failing_fails_the_report_with_its_reason(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.REPORT_SHARD_MAX_ATTEMPTS = 2

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reports.fanout.shards, "store_polls", broken)
    report = report_create(as_of=None)
    report_plan(report_id=report.id)

    for _ in range(2):
        with pytest.raises(RuntimeError):
            shard_run(shard_id=queued_shards[-1])

    report.refresh_from_db()
    assert report.status == "failed"
    assert "disk on fire" not in report.error and "2 attempts" in report.error
    assert re.search(r"internal error [0-9a-f]{16} \(logged\)", report.error), report.error
    assert len(queued_shards) == 2  # planned once, queued again once after the first failure


def test_a_shard_abandoned_too_often_fails_the_report(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    long_ago = timezone.now() - timedelta(minutes=10)
    ReportShard.objects.filter(report=report).update(status="running", attempts=3, claimed_at=long_ago)

    report = report_recover(Report.objects.get(id=report.id))

    assert report.status == "failed"
    assert "abandoned 3 times" in report.error


def test_a_report_past_its_deadline_fails(settings: Settings, week_of_polls: datetime) -> None:
    report = report_create(as_of=None)
    Report.objects.filter(id=report.id).update(created_at=timezone.now() - timedelta(hours=1))
    settings.REPORT_DEADLINE_SECONDS = 60

    report = report_recover(Report.objects.get(id=report.id))

    assert report.status == "failed"
    assert "did not finish within 60 s" in report.error


def test_recovery_looks_at_a_report_at_most_once_per_lease(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    long_ago = timezone.now() - timedelta(minutes=10)
    ReportShard.objects.filter(report=report).update(status="running", attempts=1, claimed_at=long_ago)
    queued_shards.clear()

    for _ in range(5):
        report_recover(Report.objects.get(id=report.id))

    assert len(queued_shards) == 1


def test_a_report_without_stores_completes_with_only_the_header(week_of_polls: datetime) -> None:
    report = report_create(as_of=week_of_polls - timedelta(days=30))

    report_plan(report_id=report.id)

    report.refresh_from_db()
    assert (report.status, report.rows) == ("complete", 0)
    assert csv_of(report).splitlines() == [CSV_AT_NOW.splitlines()[0]]


@pytest.mark.usefixtures("two_store_shards")
def test_data_loaded_after_planning_does_not_change_the_report(
    week_of_polls: datetime, queued_shards: list[int]
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    # After planning: a backfilled poll and new hours for stores of the report.
    PollFactory(store=StoreFactory(id="always-up"), timestamp_utc=week_of_polls - timedelta(hours=1), status="inactive")
    BusinessHours.objects.create(
        store_id="always-down", day_of_week=0, start_time_local=time(9), end_time_local=time(10)
    )

    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)

    assert csv_of(report) == CSV_AT_NOW


def test_a_report_whose_planning_fails_is_failed_at_once_with_an_error_id_not_the_exception_text(
    week_of_polls: datetime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(polls: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("catalogue unreadable")

    monkeypatch.setattr(reports.fanout.plan, "stores_polled_in", broken)
    report = report_create(as_of=None)

    with pytest.raises(RuntimeError):
        report_plan(report_id=report.id)

    report.refresh_from_db()
    assert report.status == "failed"
    assert re.fullmatch(r"planning failed: internal error ([0-9a-f]{16}) \(logged\)", report.error), report.error
    error_id = report.error.split()[4]
    [logged] = [record for record in caplog.records if error_id in record.getMessage()]
    assert logged.exc_info is not None and "catalogue unreadable" in str(logged.exc_info[1])
    assert not ReportShard.objects.filter(report=report).exists()


@pytest.mark.usefixtures("two_store_shards")
@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_each_shard_is_committed_and_queued_while_the_plan_reads_on(
    week_of_polls: datetime, monkeypatch: pytest.MonkeyPatch, run_queued_tasks: RunQueuedTasks
) -> None:
    # What another worker sees, on a connection of its own, each time the plan
    # starts reading a shard's inputs; meanwhile a client's poll writes the
    # report row, which must not disturb the plan's snapshot.
    report = report_create(as_of=None)
    seen: list[tuple[int, int, bool]] = []
    read_inputs = reports.fanout.plan.planned_shard_inputs

    def look_from_elsewhere() -> None:
        try:
            Report.objects.filter(id=report.id).update(recovered_at=timezone.now())
            planned = Report.objects.get(id=report.id).planned_at is not None
            seen.append((ReportShard.objects.filter(report=report).count(), OrmQ.objects.count(), planned))
        finally:
            db.connection.close()

    def inputs_seen_from_elsewhere(store_ids: list[str], using: str, **options: Any) -> Any:
        other_worker = threading.Thread(target=look_from_elsewhere)
        other_worker.start()
        other_worker.join()
        return read_inputs(store_ids, using, **options)

    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", inputs_seen_from_elsewhere)

    report_plan(report_id=report.id)

    assert seen == [(0, 0, False), (1, 1, False), (2, 2, False)]
    assert run_queued_tasks() == 3 + 1  # the shards, then the extended CSV of the complete report
    report.refresh_from_db()
    assert (report.status, report.shards_done, report.recovered_at is not None) == ("complete", 3, True)
    assert csv_of(report) == CSV_AT_NOW


class WorkerKilled(BaseException):
    """A worker process dying mid-task: nothing in the task gets to handle it."""


@pytest.mark.usefixtures("two_store_shards")
def test_a_plan_whose_worker_died_half_way_is_planned_again_and_only_the_new_plan_counts(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = report_create(as_of=None)
    queued_plans: list[str] = []
    monkeypatch.setattr(reports.fanout.queue, "queue_plan", queued_plans.append)
    read_inputs = reports.fanout.plan.planned_shard_inputs

    def dies_at_the_second_shard(store_ids: list[str], using: str, **options: Any) -> Any:
        if queued_shards:
            raise WorkerKilled
        return read_inputs(store_ids, using, **options)

    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", dies_at_the_second_shard)
    with pytest.raises(WorkerKilled):
        report_plan(report_id=report.id)
    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", read_inputs)
    orphan = queued_shards.pop()
    report.refresh_from_db()
    # The totals come with the plan's end: a plan cut off half way leaves them unset, its progress 0.
    assert (report.status, report.planned_at, report.shards_total, report.plan_attempts) == ("running", None, 0, 1)
    assert report.progress == 0.0

    report_recover(Report.objects.get(id=report.id))
    assert queued_plans == []  # within the lease the plan may still be alive
    Report.objects.filter(id=report.id).update(
        plan_renewed_at=timezone.now() - timedelta(minutes=10), recovered_at=None
    )
    report_recover(Report.objects.get(id=report.id))
    assert queued_plans == [report.id]

    report_plan(report_id=report.id)
    for shard_id in [orphan, *queued_shards]:
        shard_run(shard_id=shard_id)

    report.refresh_from_db()
    assert (report.status, report.plan_attempts, report.shards_done) == ("complete", 2, 3)
    assert ReportShard.objects.get(id=orphan).status == "pending"  # its plan was replaced: never claimed
    assert csv_of(report) == CSV_AT_NOW


@pytest.mark.usefixtures("two_store_shards")
def test_a_plan_presumed_dead_that_was_only_slow_counts_for_nothing(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = report_create(as_of=None)
    read_inputs = reports.fanout.plan.planned_shard_inputs

    def replaced_after_its_first_shard(store_ids: list[str], using: str, **options: Any) -> Any:
        if len(queued_shards) == 1:
            monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", read_inputs)
            Report.objects.filter(id=report.id).update(plan_renewed_at=timezone.now() - timedelta(minutes=10))
            report_plan(report_id=report.id)  # the next plan, while this one stalls
        return read_inputs(store_ids, using, **options)

    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", replaced_after_its_first_shard)

    report_plan(report_id=report.id)  # resumes after the next plan is done, and stops

    shards = ReportShard.objects.filter(report=report)
    assert sorted(shards.values_list("plan_attempt", flat=True)) == [1, 2, 2, 2]
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)
    report.refresh_from_db()
    assert (report.status, report.plan_attempts, report.shards_done, report.stores_done) == ("complete", 2, 3, 5)
    assert set(shards.filter(plan_attempt=1).values_list("status", flat=True)) == {"pending"}
    assert csv_of(report) == CSV_AT_NOW


def test_a_running_report_that_no_plan_started_is_planned_by_recovery(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = report_create(as_of=None)
    Report.objects.filter(id=report.id).update(status="running")  # as made by hand, or in the admin
    queued_plans: list[str] = []
    monkeypatch.setattr(reports.fanout.queue, "queue_plan", queued_plans.append)

    report_recover(Report.objects.get(id=report.id))
    assert queued_plans == [report.id]
    report_plan(report_id=report.id)
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)

    assert csv_of(report) == CSV_AT_NOW


def test_a_plan_abandoned_too_often_fails_the_report(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    long_ago = timezone.now() - timedelta(minutes=10)
    Report.objects.filter(id=report.id).update(status="running", plan_attempts=3, plan_renewed_at=long_ago)

    report = report_recover(Report.objects.get(id=report.id))

    assert (report.status, report.error) == ("failed", "planning was abandoned 3 times (workers died)")


def test_a_report_is_not_assembled_before_its_plan_has_written_every_shard(week_of_polls: datetime) -> None:
    report = report_create(as_of=None)
    assert reports.fanout.plan._claim_plan(report.id) is not None  # no shard written yet: 0 of 0 done

    report_assemble(report_id=report.id)

    report.refresh_from_db()
    assert (report.status, report.assembling_since, report.csv_file.name) == ("running", None, "")


def test_recovery_writes_nothing_for_a_report_whose_plan_is_not_yet_overdue(week_of_polls: datetime) -> None:
    report = report_create(as_of=None)

    report_recover(Report.objects.get(id=report.id))

    report.refresh_from_db()
    assert (report.status, report.recovered_at) == ("pending", None)


def test_a_client_polling_within_the_lease_costs_recovery_no_query(
    week_of_polls: datetime, queued_shards: list[int], django_assert_num_queries: Any
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    report_recover(Report.objects.get(id=report.id))  # the first look records itself
    polled = Report.objects.get(id=report.id)

    with django_assert_num_queries(0):
        assert report_recover(polled) is polled


@pytest.mark.usefixtures("two_store_shards")
def test_a_stale_worker_that_raises_after_another_completed_its_shard_changes_nothing(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Worker A stalls past the lease; B re-claims the shard, completes and
    # counts it; then A raises. Before claims carried a token, A's failure put
    # the shard back to pending, C counted it again and the report was
    # assembled Complete with the last shard's stores missing.
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    first, second, third = queued_shards
    compute = reports.fanout.shards.shard_compute

    def stalls_then_raises(shard: ReportShard, **kwargs: Any) -> str:
        monkeypatch.setattr(reports.fanout.shards, "shard_compute", compute)
        ReportShard.objects.filter(id=shard.id).update(claimed_at=timezone.now() - timedelta(minutes=10))
        shard_run(shard_id=shard.id)  # worker B
        raise RuntimeError("worker A wakes up to a closed connection")

    monkeypatch.setattr(reports.fanout.shards, "shard_compute", stalls_then_raises)
    with pytest.raises(RuntimeError):
        shard_run(shard_id=first)
    for shard_id in queued_shards[3:]:  # whatever A's failure queued again: worker C
        shard_run(shard_id=shard_id)
    shard_run(shard_id=second)

    report.refresh_from_db()
    assert (report.status, report.shards_done, report.stores_done) == ("running", 2, 4)
    assert ReportShard.objects.get(id=first).status == "complete"
    shard_run(shard_id=third)
    report.refresh_from_db()
    assert (report.status, report.shards_done, report.rows) == ("complete", 3, 5)
    assert csv_of(report) == CSV_AT_NOW


@pytest.mark.usefixtures("two_store_shards")
def test_a_worker_whose_claim_was_taken_over_cannot_complete_the_shard(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    first = queued_shards[0]
    compute = reports.fanout.shards.shard_compute

    def taken_over_while_computing(shard: ReportShard, **kwargs: Any) -> str:
        ReportShard.objects.filter(id=shard.id).update(claim_token="another-worker")
        return "stale,rows,of,a,worker,that,lost\n"

    monkeypatch.setattr(reports.fanout.shards, "shard_compute", taken_over_while_computing)
    shard_run(shard_id=first)
    monkeypatch.setattr(reports.fanout.shards, "shard_compute", compute)

    shard = ReportShard.objects.get(id=first)
    report.refresh_from_db()
    assert (shard.status, shard.rows_csv, report.shards_done) == ("running", "", 0)


@pytest.mark.usefixtures("two_store_shards")
def test_assembly_refuses_while_a_planned_shard_is_not_complete(
    week_of_polls: datetime, queued_shards: list[int]
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    for shard_id in queued_shards[:2]:
        shard_run(shard_id=shard_id)
    Report.objects.filter(id=report.id).update(shards_done=3)  # a counter gone wrong

    report_assemble(report_id=report.id)

    report.refresh_from_db()
    assert (report.status, report.csv_file.name, report.assembling_since) == ("running", "", None)
    shard_run(shard_id=queued_shards[2])  # the last shard still assembles it, whole
    report.refresh_from_db()
    assert (report.status, report.rows) == ("complete", 5)
    assert csv_of(report) == CSV_AT_NOW


@pytest.mark.usefixtures("two_store_shards")
def test_assembly_refuses_rows_that_do_not_match_the_stores_planned(
    week_of_polls: datetime, queued_shards: list[int]
) -> None:
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    for shard_id in queued_shards[:2]:
        shard_run(shard_id=shard_id)
    ReportShard.objects.filter(id=queued_shards[0]).update(rows_csv="always-down,0.00,0.00,0.00,60.00,24.00,168.00\n")

    shard_run(shard_id=queued_shards[2])

    report.refresh_from_db()
    assert report.status == "failed"
    assert report.error == "assembly refused: the shards hold 4 rows for 5 stores planned"
    assert report.csv_file.name == ""


def test_a_re_plan_keeps_the_first_start(week_of_polls: datetime, queued_shards: list[int]) -> None:
    report = report_create(as_of=None)
    first = reports.fanout.plan._claim_plan(report.id)
    assert first is not None and first.started_at is not None
    # The first plan's worker died before writing a shard; its claim is a lease old.
    Report.objects.filter(id=report.id).update(plan_renewed_at=timezone.now() - timedelta(minutes=10))

    report_plan(report_id=report.id)

    report.refresh_from_db()
    assert (report.status, report.plan_attempts, report.started_at) == ("running", 2, first.started_at)
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)
    report.refresh_from_db()
    assert (report.status, report.started_at) == ("complete", first.started_at)


def in_a_worker(task: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """``task`` on a thread of its own, as another worker with its own database connection; its errors collected."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            task()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            errors.append(error)
        finally:
            db.connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def slowly(function: Callable[..., Any], seconds: float) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        clock.sleep(seconds)
        return function(*args, **kwargs)

    return slow


SLOW_WORKER_LEASES = 3
"""A slow worker takes this many leases (of 1 s) over its task, renewing its claim all along."""


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_slow_worker_that_is_alive_keeps_its_shard(
    settings: Settings, week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORT_SHARD_LEASE_SECONDS = 1
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    (shard_id,) = queued_shards
    slow = slowly(reports.fanout.shards.shard_compute, SLOW_WORKER_LEASES)
    monkeypatch.setattr(reports.fanout.shards, "shard_compute", slow)

    worker, errors = in_a_worker(lambda: shard_run(shard_id=shard_id))
    while worker.is_alive():  # meanwhile another worker and a polling client try to take it over
        clock.sleep(0.25)
        shard_run(shard_id=shard_id)
        report_recover(Report.objects.get(id=report.id))
    worker.join()

    assert errors == []
    shard = ReportShard.objects.get(id=shard_id)
    assert (shard.status, shard.attempts) == ("complete", 1)
    assert queued_shards == [shard_id]  # never queued again
    assert csv_of(report) == CSV_AT_NOW


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_slow_plan_that_is_alive_keeps_the_report(
    settings: Settings, week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPORT_SHARD_LEASE_SECONDS = 1
    report = report_create(as_of=None)
    queued_plans: list[str] = []
    monkeypatch.setattr(reports.fanout.queue, "queue_plan", queued_plans.append)
    slow = slowly(reports.fanout.plan.planned_shard_inputs, SLOW_WORKER_LEASES)
    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", slow)

    planner, errors = in_a_worker(lambda: report_plan(report_id=report.id))
    while planner.is_alive():
        clock.sleep(0.25)
        report_plan(report_id=report.id)
        report_recover(Report.objects.get(id=report.id))
    planner.join()
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)

    assert errors == []
    report.refresh_from_db()
    assert (report.status, report.plan_attempts, queued_plans) == ("complete", 1, [])
    assert csv_of(report) == CSV_AT_NOW


def test_the_newest_stored_poll_counts_in_a_fanned_out_report_and_its_snapshot(queued_shards: list[int]) -> None:
    # The plan's max_poll_id is the id of this very poll: the bound must include it.
    now = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)
    store = StoreFactory(id="s")
    PollFactory(store=store, timestamp_utc=now - timedelta(days=3), status="active")
    newest = PollFactory(store=store, timestamp_utc=now, status="inactive")
    report = report_create(as_of=None)

    report_plan(report_id=report.id)
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)

    report.refresh_from_db()
    assert report.max_poll_id == newest.id
    # Up until the midpoint 36 h before now, down since: the newest poll rules the last hour and day.
    assert csv_of(report).splitlines()[1] == "s,0.00,0.00,132.00,60.00,24.00,36.00"
    with consistent_read():
        (inputs,) = report_store_inputs(report)
    assert inputs.polls[-1] == (to_instant(now), False)


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_worker_whose_database_connection_is_cut_mid_shard_reconnects_and_completes_it(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a database restart does to a worker, on this test's own connection only.
    if db.connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    report = report_create(as_of=None)
    report_plan(report_id=report.id)
    compute = reports.fanout.shards.shard_compute
    cut: list[int] = []

    def connection_cut_first(shard: ReportShard, **kwargs: Any) -> str:
        if not cut:
            db.connection.ensure_connection()
            cut.append(db.connection.connection.info.backend_pid)

            def terminate() -> None:
                with db.connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", cut)

            other, errors = in_a_worker(terminate)
            other.join()
            assert errors == []
        return compute(shard, **kwargs)

    monkeypatch.setattr(reports.fanout.shards, "shard_compute", connection_cut_first)
    (shard_id,) = queued_shards
    shard_run(shard_id=shard_id)

    shard = ReportShard.objects.get(id=shard_id)
    assert (shard.status, shard.attempts, len(cut)) == ("complete", 1, 1)
    assert db.connection.connection.info.backend_pid != cut[0]
    assert csv_of(report) == CSV_AT_NOW


@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_a_plan_whose_database_connection_is_cut_is_planned_again_not_failed(
    week_of_polls: datetime, queued_shards: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    report = report_create(as_of=None)
    queued_plans: list[str] = []
    monkeypatch.setattr(reports.fanout.queue, "queue_plan", queued_plans.append)
    read_inputs = reports.fanout.plan.planned_shard_inputs

    def reader_cut_first(store_ids: list[str], using: str, **options: Any) -> Any:
        monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", read_inputs)
        # Both of the plan's connections, as a database restart does.
        pids = [db.connections[alias].connection.info.backend_pid for alias in (using, "default")]

        def terminate() -> None:
            with db.connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])

        other, errors = in_a_worker(terminate)
        other.join()
        assert errors == []
        return read_inputs(store_ids, using, **options)

    monkeypatch.setattr(reports.fanout.plan, "planned_shard_inputs", reader_cut_first)
    with pytest.raises(db.OperationalError):
        report_plan(report_id=report.id)
    db.connections.close_all()  # what django-q2 does with broken connections before its next task

    report.refresh_from_db()
    assert (report.status, report.error, queued_plans) == ("running", "", [report.id])
    report_plan(report_id=report.id)
    for shard_id in queued_shards:
        shard_run(shard_id=shard_id)
    report.refresh_from_db()
    assert (report.status, report.plan_attempts) == ("complete", 2)
    assert csv_of(report) == CSV_AT_NOW
