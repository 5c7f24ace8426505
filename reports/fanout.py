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
   status in one update. A shard computed twice is counted once: only the
   update that moves it from ``running`` to ``complete`` counts.
3. **Assembly** (whoever completes the last shard): claimed with a
   conditional update so it happens once; the CSV is the header plus the
   shards' rows in order, byte for byte what ``build_report`` writes.
4. **Recovery**: a shard whose worker died (its claim is older than
   ``REPORT_SHARD_LEASE_SECONDS``) is queued again, up to
   ``REPORT_SHARD_MAX_ATTEMPTS`` claims; so is a plan that died half-way,
   which starts over as the report's next plan (its shards numbered with
   the new ``plan_attempt``; the old ones no longer count). After that, or past
   ``REPORT_DEADLINE_SECONDS``, the report ends Failed with the reason.
   Recovery runs when a client polls the report and once a minute from a
   django-q2 schedule, so a report never stays Running.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as time_of_day
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

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

    Claimable: a pending report, or one whose plan started more than a lease
    ago and never finished (its worker died). If planning itself fails, the
    report ends Failed with the error at once rather than waiting out its
    deadline.
    """
    with _planning_snapshot() as reader:
        report = _claim_plan(report_id)
        if report is None:
            return
        try:
            planned = _write_shards(report, reader)
        except Exception as error:
            _fail(report_id, f"planning failed: {type(error).__name__}: {error}", plan_attempt=report.plan_attempts)
            raise
    if not planned:
        logger.info("report %s: plan %d was replaced by a newer one", report_id, report.plan_attempts)
        return
    logger.info("report %s planned: %d stores in %d shards", report_id, report.stores_total, report.shards_total)
    # Normally the last shard assembles the report; this covers a report
    # without stores and shards that all finished before the plan did.
    report_assemble(report_id=report_id)


def _claim_plan(report_id: str) -> Report | None:
    """Start the report's next plan, from zero; ``None`` if it is planned, or being planned, elsewhere."""
    now = timezone.now()
    # A running report without a start time was made by hand: nothing is planning it.
    overdue = Q(started_at__isnull=True) | Q(started_at__lt=now - _lease())
    abandoned = Q(overdue, status=Report.Status.RUNNING, planned_at__isnull=True)
    claimed = Report.objects.filter(Q(status=Report.Status.PENDING) | abandoned, id=report_id).update(
        status=Report.Status.RUNNING,
        started_at=now,
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
    this_plan = Report.objects.filter(id=report.id, status=Report.Status.RUNNING, plan_attempts=report.plan_attempts)
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
    return bool(this_plan.update(planned_at=timezone.now()))


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
    stale = timezone.now() - _lease()
    claimable = Q(status=ReportShard.Status.PENDING) | Q(status=ReportShard.Status.RUNNING, claimed_at__lt=stale)
    claimed = ReportShard.objects.filter(
        claimable,
        id=shard_id,
        report__status=Report.Status.RUNNING,
        report__plan_attempts=F("plan_attempt"),
        attempts__lt=settings.REPORT_SHARD_MAX_ATTEMPTS,
    ).update(
        status=ReportShard.Status.RUNNING,
        claimed_at=timezone.now(),
        claimed_by=worker_name(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return
    shard = ReportShard.objects.select_related("report").get(id=shard_id)
    report = shard.report
    assert report.as_of is not None
    started = time.perf_counter()
    try:
        rows_csv = shard_compute(shard, now=report.as_of, max_poll_id=report.max_poll_id)
    except Exception as error:
        message = f"shard {shard.index}: {type(error).__name__}: {error}"
        ReportShard.objects.filter(id=shard_id).update(status=ReportShard.Status.FAILED, error=message)
        if shard.attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            _fail(report.id, f"{message} (after {shard.attempts} attempts)")
        else:
            ReportShard.objects.filter(id=shard_id, status=ReportShard.Status.FAILED).update(
                status=ReportShard.Status.PENDING
            )
            _queue_shard(shard_id)
        raise
    with transaction.atomic():
        completed = ReportShard.objects.filter(id=shard_id, status=ReportShard.Status.RUNNING).update(
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
    if completed:
        report_assemble(report_id=report.id)


def report_assemble(*, report_id: str) -> None:
    """Once every shard is complete: write the CSV and mark the report Complete, exactly once."""
    stale = timezone.now() - _lease()
    claimed = Report.objects.filter(
        Q(assembling_since__isnull=True) | Q(assembling_since__lt=stale),
        id=report_id,
        status=Report.Status.RUNNING,
        planned_at__isnull=False,
        shards_done=F("shards_total"),
    ).update(assembling_since=timezone.now())
    if not claimed:
        return
    report = Report.objects.get(id=report_id)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerow(HEADER)
        for rows_csv in report.planned_shards().values_list("rows_csv", flat=True).iterator():
            out.write(rows_csv)
        out.seek(0)
        report.csv_file.save(f"report-{report.id}.csv", File(out), save=False)
    Report.objects.filter(id=report_id, status=Report.Status.RUNNING).update(
        status=Report.Status.COMPLETE,
        csv_file=report.csv_file.name,
        rows=report.stores_total,
        finished_at=timezone.now(),
    )
    logger.info("report %s complete: %d rows", report_id, report.stores_total)
    report_extended_csv_queue(report_id=report_id)


def report_recover(report: Report) -> Report:
    """Queue again whatever a dead worker left behind; fail what cannot finish. Cheap enough per poll.

    At most once per lease per report (a conditional update), so a client
    polling every second does not flood the queue.
    """
    if report.is_finished:
        return report
    now = timezone.now()
    lease = _lease()
    if now - report.created_at > timedelta(seconds=settings.REPORT_DEADLINE_SECONDS):
        _fail(report.id, f"the report did not finish within {settings.REPORT_DEADLINE_SECONDS} s")
    elif report.status == Report.Status.PENDING and report.created_at >= now - lease:
        return report  # its plan is queued and not overdue: no write that could collide with planning
    elif report.recovered_at is not None and report.recovered_at >= now - lease:
        return report  # looked at within the lease: the common case of a client polling, no query
    elif Report.objects.filter(
        Q(recovered_at__isnull=True) | Q(recovered_at__lt=now - lease), id=report.id
    ).update(recovered_at=now):
        _recover_claimed(report, now - lease)
    report.refresh_from_db()
    return report


def _recover_claimed(report: Report, stale: datetime) -> None:
    if report.status == Report.Status.PENDING:
        _queue_plan(report.id)  # report_recover only gets here once the plan is overdue
        return
    if report.planned_at is None:
        if report.started_at is not None and report.started_at >= stale:
            return  # its plan is still writing shards
        if report.plan_attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            _fail(report.id, f"planning was abandoned {report.plan_attempts} times (workers died)")
        else:
            logger.warning("report %s: planning again (attempt %d)", report.id, report.plan_attempts + 1)
            _queue_plan(report.id)
        return
    abandoned = report.planned_shards().filter(
        Q(status=ReportShard.Status.PENDING, report__started_at__lt=stale)
        | Q(status=ReportShard.Status.RUNNING, claimed_at__lt=stale)
        | Q(status=ReportShard.Status.FAILED)
    )
    for shard_id, attempts, error in abandoned.values_list("id", "attempts", "error"):
        if attempts >= settings.REPORT_SHARD_MAX_ATTEMPTS:
            _fail(report.id, error or f"a shard was abandoned {attempts} times (workers died)")
            return
        logger.warning("report %s: queueing shard %s again (attempt %d)", report.id, shard_id, attempts + 1)
        _queue_shard(shard_id)
    if report.shards_done == report.shards_total:
        report_assemble(report_id=report.id)


def reports_recover_all() -> int:
    """Recovery for every unfinished report; the once-a-minute schedule calls this."""
    unfinished = Report.objects.filter(status__in=[Report.Status.PENDING, Report.Status.RUNNING])
    count = 0
    for report in unfinished.iterator():
        report_recover(report)
        count += 1
    return count
