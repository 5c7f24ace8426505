"""A report fanned out over django-q2 workers: plan, shards, assembly, recovery.

1. **Plan** (one task): fix the report's snapshot — which stores get a row,
   their hours and zones, and the last poll id stored so far — and cut the
   stores into shards of ``REPORT_SHARD_SIZE``. Each shard row carries its
   stores' hours and zones, so shards run later, anywhere, still see the
   snapshot. The plan reads on a connection of its own and commits and
   queues each shard as soon as it is written, so other workers compute
   the first shards while it writes the rest.
2. **Shards** (one task each, on any worker of any machine sharing the
   database and broker): claim the shard, compute its rows with the same
   engine as ``build_report``, and store them with the shard's ``complete``
   status in one update. Each claim has a token of its own, and every later
   move of the shard (complete, failed, pending again) is an update
   conditional on it: a worker whose claim was taken over can change
   nothing, so a shard is counted once, by the claim that completed it.
3. **Assembly** (whoever completes the last shard): claimed with a
   conditional update so it happens once; the CSV is the header plus the
   shards' rows in order, byte for byte what ``build_report`` writes. It
   refuses unless every planned shard is complete and the rows number the
   stores planned.
4. **Recovery**: while a worker plans, computes or assembles, a heartbeat
   thread renews its claim every third of ``REPORT_SHARD_LEASE_SECONDS``, so
   a slow worker that is alive keeps its work. A claim not renewed for the
   lease is abandoned (its worker died, or lost the database): the shard is
   queued again, up to ``REPORT_SHARD_MAX_ATTEMPTS`` claims; so is a plan,
   which starts over as the report's next plan (its shards numbered with the
   new ``plan_attempt``; the old ones no longer count). After that, or past
   ``REPORT_DEADLINE_SECONDS``, the report ends Failed with the reason.
   Recovery runs when a client polls the report (at most once per
   :func:`recovery_interval`) and once a minute from a django-q2 schedule, so
   a report never stays Running.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from datetime import time as time_of_day
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from loopmonitor.exceptions import logged_error_id
from reports.engine.csv_row import HEADER
from reports.engine.units import to_instant
from reports.extended_csv import report_extended_csv_queue
from reports.models import Report, ReportShard
from reports.selectors import StoreInputs, chunked, reported_store_ids, store_polls, store_schedules
from reports.services import read_snapshot, report_create, report_rows
from reports.snapshot import planned_hours
from stores.models import Poll

logger = logging.getLogger(__name__)

ShardInputs = list[list[Any]]
"""``[[store_id, timezone, [[day, start, end], ...]], ...]`` in store order, times as microseconds after midnight.

A list, not a mapping: PostgreSQL's jsonb does not keep key order."""


READER = "reader"
"""The second connection to the database that settings define for reading a plan's snapshot."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _queue_shard(shard_id: int) -> None:
    async_task("reports.tasks.run_shard", shard_id, task_name=f"shard-{shard_id}", group="reports")


def _queue_plan(report_id: str) -> None:
    async_task("reports.tasks.run_report", report_id, task_name=f"report-{report_id}", group="reports")


def report_trigger(*, as_of: datetime | None, requested_by: User | None = None) -> Report:
    """Create a report (its ``now`` fixed now) and queue its plan for a django-q2 worker."""
    report = report_create(as_of=as_of, requested_by=requested_by)
    _queue_plan(report.id)
    return report


def _lease() -> timedelta:
    return timedelta(seconds=settings.REPORT_SHARD_LEASE_SECONDS)


def heartbeat_interval() -> float:
    """Seconds between two renewals of a claim: a third of the lease, so two missed beats still keep it."""
    return float(settings.REPORT_SHARD_LEASE_SECONDS) / 3


def recovery_interval() -> timedelta:
    """How often recovery looks at a polled report: once a heartbeat, so a dead claim is found soon after its lease."""
    return timedelta(seconds=heartbeat_interval())


def stale_claim(stale: datetime) -> Q:
    """Shards claimed by a worker that has not renewed its claim since ``stale`` (a lease ago): presumed dead."""
    return Q(status=ReportShard.Status.RUNNING, claimed_at__lt=stale)


def claimable_shards(stale: datetime) -> Q:
    """Shards a worker may claim: never claimed, or abandoned by a dead worker."""
    return Q(status=ReportShard.Status.PENDING) | stale_claim(stale)


def abandoned_plan(stale: datetime) -> Q:
    """Running reports whose plan is unfinished and was not renewed since ``stale``; no renewal at all: made by hand."""
    overdue = Q(plan_renewed_at__isnull=True) | Q(plan_renewed_at__lt=stale)
    return Q(overdue, status=Report.Status.RUNNING, planned_at__isnull=True)


def this_claim(shard_id: int, token: str) -> QuerySet[ReportShard]:
    """The shard, only while the claim ``token`` holds it: every move after a claim goes through this."""
    return ReportShard.objects.filter(id=shard_id, status=ReportShard.Status.RUNNING, claim_token=token)


@contextlib.contextmanager
def heartbeat(renew: Callable[[], int], what: str) -> Iterator[threading.Event]:
    """Call ``renew()`` every :func:`heartbeat_interval` seconds on a thread of its own while the block runs.

    ``renew`` is a conditional update of the claim: 0 rows means the claim was
    lost (the returned event is set then), and the block's own conditional
    updates will find that out too. A database error is logged and the next
    beat reconnects: a short database restart costs a beat, not the claim.
    The thread has its own connection, closed when it ends. Inside a
    caller's transaction (tests) nothing else could see the claim, so no
    thread is started.
    """
    lost = threading.Event()
    if connection.in_atomic_block:
        yield lost
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_interval()):
                try:
                    if not renew():
                        logger.warning("%s: claim lost to another worker", what)
                        lost.set()
                        return
                except Exception:  # noqa: BLE001 - any database trouble: try again next beat
                    logger.warning("%s: could not renew the claim", what, exc_info=True)
                    connection.close()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat {what}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        # A beat stuck on the database ends on its own; its update is conditional and changes nothing then.
        thread.join(timeout=1)


def _fail(report_id: str, error: str, *, plan_attempt: int | None = None) -> None:
    """End an unfinished report Failed; with ``plan_attempt``, only while that plan is the report's latest."""
    unfinished = Report.objects.filter(id=report_id, status__in=[Report.Status.PENDING, Report.Status.RUNNING])
    if plan_attempt is not None:
        unfinished = unfinished.filter(plan_attempts=plan_attempt)
    unfinished.update(status=Report.Status.FAILED, error=error, finished_at=timezone.now())


@contextlib.contextmanager
def _planning_snapshot() -> Iterator[str]:
    """The alias of a connection whose reads, in the block, are one snapshot that includes every finished load.

    Not the default connection: that one commits and queues each shard while
    the plan reads on, so at 1x another worker starts on the first shard
    about 0.3 s after the plan does instead of after all of it (0.7 s).
    PostgreSQL: REPEATABLE READ, after a SHARE lock on the polls table has
    waited out any poll load in progress (a load holds a conflicting lock for
    its whole merge), so the last poll id read is a clean cut. SQLite: a
    deferred transaction in WAL mode; a load is one transaction, so it is
    all in or all out. Inside a caller's transaction (tests) only that
    connection sees the caller's rows: it is the snapshot, and the plan runs
    on it alone.
    """
    if connection.in_atomic_block:
        yield DEFAULT_DB_ALIAS
        return
    with transaction.atomic(using=READER):
        reader = connections[READER]
        if reader.vendor == "postgresql":
            with reader.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute(f"LOCK TABLE {Poll._meta.db_table} IN SHARE MODE")
        yield READER


@lru_cache(maxsize=4096)
def _microseconds(moment: time_of_day) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


def _hours_inputs(day: int, start: time_of_day, end: time_of_day) -> list[int]:
    return [day, _microseconds(start), _microseconds(end)]


def _shard_inputs(store_ids: list[str], using: str) -> ShardInputs:
    # The plan runs before any shard can start: it builds the JSON-ready rows
    # directly rather than engine rows it would only convert again.
    schedules = store_schedules(store_ids, _hours_inputs, using=using)
    return [[store_id, *schedules.get(store_id, (None, []))] for store_id in store_ids]


def report_plan(*, report_id: str) -> None:
    """Claim a report, snapshot its inputs into shards, and queue each shard as soon as it is written.

    Claimable: a pending report, or one whose plan has not renewed its claim
    for a lease and never finished (its worker died). If planning itself fails, the
    report ends Failed with the error at once rather than waiting out its
    deadline.
    """
    with _planning_snapshot() as reader:
        report = _claim_plan(report_id)
        if report is None:
            return
        this_plan = _unfinished_plan(report)
        try:
            with heartbeat(lambda: this_plan.update(plan_renewed_at=timezone.now()), f"plan of report {report_id}"):
                planned = _write_shards(report, reader)
        except (OperationalError, InterfaceError):
            _plan_again_after_a_database_blip(report)
            raise
        except Exception as error:
            error_id = logged_error_id(f"plan of report {report_id}", error)
            _fail(report_id, f"planning failed: internal error {error_id} (logged)", plan_attempt=report.plan_attempts)
            raise
    if not planned:
        logger.info("report %s: plan %d was replaced by a newer one", report_id, report.plan_attempts)
        return
    logger.info("report %s planned: %d stores in %d shards", report_id, report.stores_total, report.shards_total)
    # Normally the last shard assembles the report; this covers a report
    # without stores and shards that all finished before the plan did.
    report_assemble(report_id=report_id)


def _unfinished_plan(report: Report) -> QuerySet[Report]:
    """The report while ``report``'s plan is its latest and still writing shards."""
    return Report.objects.filter(
        id=report.id, status=Report.Status.RUNNING, plan_attempts=report.plan_attempts, planned_at__isnull=True
    )


def _plan_again_after_a_database_blip(report: Report) -> None:
    """A plan cut off from the database (a restart) is not the report's fault: release its claim and queue it again.

    Tried on a new connection for up to a heartbeat; if the database is still
    away, the claim runs out after the lease and recovery plans the report
    again.
    """
    logger.warning("report %s: plan %d lost the database; planning again", report.id, report.plan_attempts)
    deadline = time.monotonic() + heartbeat_interval()
    while True:
        connection.close()
        try:
            if _unfinished_plan(report).update(plan_renewed_at=None):
                _queue_plan(report.id)
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                logger.warning("report %s: the database is still away; recovery will plan it again", report.id)
                return
            time.sleep(1)


def _claim_plan(report_id: str) -> Report | None:
    """Start the report's next plan, from zero; ``None`` if it is planned, or being planned, elsewhere.

    ``started_at`` is the first plan's start: a re-plan keeps it, so the
    report's duration counts the time lost to a dead worker.
    """
    now = timezone.now()
    claimed = Report.objects.filter(
        Q(status=Report.Status.PENDING) | abandoned_plan(now - _lease()), id=report_id
    ).update(
        status=Report.Status.RUNNING,
        started_at=Coalesce(F("started_at"), now),
        plan_renewed_at=now,
        plan_attempts=F("plan_attempts") + 1,
        max_poll_id=None,
        stores_total=0,
        stores_done=0,
        shards_total=0,
        shards_done=0,
    )
    return Report.objects.get(id=report_id) if claimed else None


def _write_shards(report: Report, reader: str) -> bool:
    """Fix the report's snapshot, then write and queue its shards one by one; ``False`` if a newer plan took over.

    A plan presumed dead (past its lease) that was only slow may have been
    replaced: its shards carry its number, so none of them is claimed or
    counted, and it stops at the next shard it would write.
    """
    assert report.as_of is not None
    this_plan = _unfinished_plan(report)
    last_poll = Poll.objects.using(reader).order_by("-id").values_list("id", flat=True).first()
    store_ids = reported_store_ids(report.as_of, using=reader)
    report.max_poll_id = last_poll or 0
    report.stores_total = len(store_ids)
    report.shards_total = -(-len(store_ids) // settings.REPORT_SHARD_SIZE)
    if not this_plan.update(
        max_poll_id=report.max_poll_id, stores_total=report.stores_total, shards_total=report.shards_total
    ):
        return False
    # One shard's inputs in memory at a time: a 68k-store report's together weigh 100+ MB.
    for index, chunk in enumerate(chunked(store_ids, settings.REPORT_SHARD_SIZE)):
        inputs = _shard_inputs(list(chunk), reader)
        with transaction.atomic():
            if not this_plan.exists():
                return False
            shard = ReportShard.objects.create(
                report=report, plan_attempt=report.plan_attempts, index=index, stores=len(chunk), inputs=inputs
            )
            if Conf.ORM:
                # The ORM broker's task row commits with its shard. Outside a
                # transaction the broker calls close_old_connections(), which
                # closes every connection inside one: the plan's reader too.
                _queue_shard(shard.id)
        if not Conf.ORM:
            _queue_shard(shard.id)  # Redis: once the shard is committed, or a quick worker would not find it
    now = timezone.now()
    return bool(this_plan.update(planned_at=now, plan_renewed_at=now))


def _inputs_of(shard: ReportShard, polls: dict[str, list[tuple[int, bool]]]) -> list[StoreInputs]:
    return [
        StoreInputs(store_id, zone, planned_hours(hours), polls[store_id]) for store_id, zone, hours in shard.inputs
    ]


def shard_compute(shard: ReportShard, *, now: datetime, max_poll_id: int | None) -> str:
    """The shard's CSV rows (no header), from its own inputs and the polls of its snapshot."""
    store_ids = [store_id for store_id, _, _ in shard.inputs]
    out = io.StringIO()
    if store_ids:
        with read_snapshot():
            polls = store_polls(now, store_ids, max_poll_id=max_poll_id)
        csv.writer(out, lineterminator="\n").writerows(report_rows(to_instant(now), _inputs_of(shard, polls)))
    return out.getvalue()


def shard_run(*, shard_id: int) -> None:
    """Claim a shard (new, or abandoned past its lease), compute it, store its rows; assemble after the last."""
    token = _claim_shard(shard_id)
    if token is None:
        return
    shard = ReportShard.objects.select_related("report").get(id=shard_id)
    report = shard.report
    now = report.as_of
    assert now is not None
    claim = this_claim(shard_id, token)
    started = time.perf_counter()
    try:
        with heartbeat(lambda: claim.update(claimed_at=timezone.now()), f"shard {shard_id}") as lost:
            rows_csv = _through_database_blips(
                lambda: shard_compute(shard, now=now, max_poll_id=report.max_poll_id), lost
            )
    except Exception as error:
        error_id = logged_error_id(f"shard {shard.index} of report {shard.report_id}", error)
        _shard_failed(shard, token, f"shard {shard.index}: internal error {error_id} (logged)")
        raise
    with transaction.atomic():
        completed = claim.update(
            status=ReportShard.Status.COMPLETE,
            rows_csv=rows_csv,
            finished_at=timezone.now(),
            seconds=time.perf_counter() - started,
            error="",
        )
        if completed:
            Report.objects.filter(id=report.id, plan_attempts=shard.plan_attempt).update(
                shards_done=F("shards_done") + 1, stores_done=F("stores_done") + shard.stores
            )
        else:
            logger.warning(
                "shard %s: computed, but its claim was taken over; the other worker's result counts", shard_id
            )
    if completed:
        report_assemble(report_id=report.id)


def _through_database_blips(compute: Callable[[], str], lost: threading.Event) -> str:
    """``compute()``, again on a new connection while the database is unreachable, for up to a lease.

    A database restart cuts every connection: without this the shard's task
    fails, its failure cannot be written either, and the shard waits out the
    lease before another worker takes it. The heartbeat keeps the claim
    meanwhile; once the claim is lost, or after a lease, the error stands.
    """
    deadline = time.monotonic() + settings.REPORT_SHARD_LEASE_SECONDS
    while True:
        try:
            return compute()
        except (OperationalError, InterfaceError):
            if lost.is_set() or time.monotonic() > deadline:
                raise
            logger.warning("shard: the database is unreachable; computing again on a new connection", exc_info=True)
            connection.close()
            time.sleep(1)


def _claim_shard(shard_id: int) -> str | None:
    """Claim the shard if it is claimable and of its report's latest plan; the new claim's token, else ``None``."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = ReportShard.objects.filter(
        claimable_shards(now - _lease()),
        id=shard_id,
        report__status=Report.Status.RUNNING,
        report__plan_attempts=F("plan_attempt"),
        attempts__lt=settings.REPORT_SHARD_MAX_ATTEMPTS,
    ).update(
        status=ReportShard.Status.RUNNING,
        claimed_at=now,
        claimed_by=worker_name(),
        claim_token=token,
        attempts=F("attempts") + 1,
    )
    return token if claimed else None


def _shard_failed(shard: ReportShard, token: str, message: str) -> None:
    """Record a shard's error, queued again or, after its last attempt, failing the report; only while the claim holds.

    A worker that stalled past its lease and then raised must not undo the
    work of the worker that took the shard over (complete it, count it).
    """
    claim = this_claim(shard.id, token)
    if shard.attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
        if claim.update(status=ReportShard.Status.FAILED, error=message):
            _fail(shard.report_id, f"{message} (after {shard.attempts} attempts)", plan_attempt=shard.plan_attempt)
    elif claim.update(status=ReportShard.Status.PENDING, error=message):
        _queue_shard(shard.id)
    else:
        logger.warning("shard %s failed after its claim was taken over: %s", shard.id, message)


class AssemblyRefused(Exception):
    """The shards do not add up to the report planned: assembling would write a CSV with stores missing."""


def report_assemble(*, report_id: str) -> None:
    """Once every shard is complete: write the CSV and mark the report Complete, exactly once.

    The shard counter only says when to try. Before the report is Complete,
    every planned shard must be complete and the CSV must have one row per
    store planned; otherwise the assembly is released (a shard still to
    finish tries again) and, if the rows are wrong although every shard is
    complete, the report ends Failed with the reason rather than Complete
    with stores missing.
    """
    now = timezone.now()
    assembling = Report.objects.filter(id=report_id, status=Report.Status.RUNNING)
    claimed = assembling.filter(
        Q(assembling_since__isnull=True) | Q(assembling_since__lt=now - _lease()),
        planned_at__isnull=False,
        shards_done__gte=F("shards_total"),
    ).update(assembling_since=now)
    if not claimed:
        return
    report = Report.objects.get(id=report_id)
    try:
        with heartbeat(lambda: assembling.update(assembling_since=timezone.now()), f"assembly of report {report_id}"):
            _write_csv(report)
    except AssemblyRefused as refused:
        assembling.update(assembling_since=None)
        if report.planned_shards().exclude(status=ReportShard.Status.COMPLETE).exists():
            logger.error("report %s: not assembled: %s", report_id, refused)
            return
        logger.error("report %s: assembly refused although every shard is complete: %s", report_id, refused)
        _fail(report_id, f"assembly refused: {refused}", plan_attempt=report.plan_attempts)
        return
    assembling.update(
        status=Report.Status.COMPLETE,
        csv_file=report.csv_file.name,
        rows=report.stores_total,
        finished_at=timezone.now(),
    )
    logger.info("report %s complete: %d rows", report_id, report.stores_total)
    report_extended_csv_queue(report_id=report_id)


def _write_csv(report: Report) -> None:
    """Store the report's CSV (header, then each planned shard's rows in order); refused unless it is whole."""
    shards = report.planned_shards()
    complete = shards.filter(status=ReportShard.Status.COMPLETE)
    if complete.count() != report.shards_total or shards.count() != report.shards_total:
        raise AssemblyRefused(f"{complete.count()} of {report.shards_total} planned shards are complete")
    rows = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerow(HEADER)
        for rows_csv in complete.values_list("rows_csv", flat=True).iterator():
            rows += sum(1 for _ in csv.reader(io.StringIO(rows_csv)))
            out.write(rows_csv)
        if rows != report.stores_total:
            raise AssemblyRefused(f"the shards hold {rows} rows for {report.stores_total} stores planned")
        out.seek(0)
        report.csv_file.save(f"report-{report.id}.csv", File(out), save=False)


def report_recover(report: Report) -> Report:
    """Queue again whatever a dead worker left behind; fail what cannot finish. Cheap enough per poll.

    At most once per :func:`recovery_interval` per report (a conditional
    update), so a client polling every second does not flood the queue, yet
    a claim abandoned by a dead worker is found soon after its lease ran out.
    """
    if report.is_finished:
        return report
    now = timezone.now()
    lease, every = _lease(), recovery_interval()
    if now - report.created_at > timedelta(seconds=settings.REPORT_DEADLINE_SECONDS):
        _fail(report.id, f"the report did not finish within {settings.REPORT_DEADLINE_SECONDS} s")
    elif report.status == Report.Status.PENDING and report.created_at >= now - lease:
        return report  # its plan is queued and not overdue: no write that could collide with planning
    elif report.recovered_at is not None and report.recovered_at >= now - every:
        return report  # looked at a moment ago: the common case of a client polling, no query
    elif Report.objects.filter(Q(recovered_at__isnull=True) | Q(recovered_at__lt=now - every), id=report.id).update(
        recovered_at=now
    ):
        _recover_claimed(report, now - lease)
    report.refresh_from_db()
    return report


def _recover_claimed(report: Report, stale: datetime) -> None:
    if report.status == Report.Status.PENDING:
        _queue_plan(report.id)  # report_recover only gets here once the plan is overdue
        return
    if report.planned_at is None:
        if not Report.objects.filter(abandoned_plan(stale), id=report.id).exists():
            return  # its plan is still writing shards, and renewing its claim
        if report.plan_attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            _fail(report.id, f"planning was abandoned {report.plan_attempts} times (workers died)")
        else:
            logger.warning("report %s: planning again (attempt %d)", report.id, report.plan_attempts + 1)
            _queue_plan(report.id)
        return
    abandoned = report.planned_shards().filter(
        # Pending a lease after the plan finished: its task was lost with the worker that took it.
        Q(status=ReportShard.Status.PENDING, report__planned_at__lt=stale)
        | stale_claim(stale)
        | Q(status=ReportShard.Status.FAILED)
    )
    for shard_id, attempts, error in abandoned.values_list("id", "attempts", "error"):
        if attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            _fail(report.id, error or f"a shard was abandoned {attempts} times (workers died)")
            return
        logger.warning("report %s: queueing shard %s again (attempt %d)", report.id, shard_id, attempts + 1)
        _queue_shard(shard_id)
    if report.shards_done >= report.shards_total:
        report_assemble(report_id=report.id)


def reports_recover_all() -> int:
    """Recovery for every unfinished report; the once-a-minute schedule calls this."""
    unfinished = Report.objects.filter(status__in=[Report.Status.PENDING, Report.Status.RUNNING])
    count = 0
    for report in unfinished.iterator():
        report_recover(report)
        count += 1
    return count
