"""The plan: fix a report's snapshot and cut its stores into shards, each committed and queued as soon as written."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.conf import Conf

from loopmonitor.error_ids import logged_error_id
from reports.fanout import queue
from reports.fanout.assembly import report_assemble
from reports.fanout.claims import abandoned_plan, heartbeat, heartbeat_interval, lease, report_fail
from reports.models import Report, ReportShard
from reports.period_selectors import polls_in_period
from reports.selectors import polls_in_week, stores_polled_in
from reports.snapshot import planned_shard_inputs
from stores.models import Poll, Store

logger = logging.getLogger(__name__)


READER = "reader"
"""The second connection to the database that settings define for reading a plan's snapshot."""


@contextlib.contextmanager
def plan_reader() -> Iterator[str]:
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


def report_plan(*, report_id: str) -> None:
    """Claim a report, snapshot its inputs into shards, and queue each shard as soon as it is written.

    Claimable: a pending report, or one whose plan has not renewed its claim
    for a lease and never finished (its worker died). If planning itself fails, the
    report ends Failed with the error at once rather than waiting out its
    deadline.
    """
    with plan_reader() as reader:
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
            message = f"planning failed: internal error {error_id} (logged)"
            report_fail(report_id, message, plan_attempt=report.plan_attempts)
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
                queue.queue_plan(report.id)
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
        Q(status=Report.Status.PENDING) | abandoned_plan(now - lease()), id=report_id
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


def _report_store_ids(report: Report, reader: str) -> Iterator[str]:
    """The stores that get a row, as the query finds them: polled in the week before ``now``, or in ``[start, end]``.

    Streamed (a server-side cursor on PostgreSQL) in fetches of the first
    shard's size, so the first shard is queued after its own stores are
    probed rather than every store (0.2 s at 1x while the other workers
    wait) or a full shard's.
    """
    assert report.as_of is not None
    if report.is_period:
        assert report.start is not None and report.end is not None
        polls = polls_in_period(report.start, report.end)
    else:
        polls = polls_in_week(report.as_of)
    stores = stores_polled_in(polls, organization_id=report.organization_id, using=reader)
    return stores.iterator(chunk_size=shard_size(settings.REPORT_SHARD_SIZE, first=True))


def shard_size(left: int, *, first: bool = False) -> int:
    """How many stores the next shard takes when at most ``left`` are still to plan.

    ``REPORT_SHARD_SIZE`` while plenty are left, then half of what is left,
    down to a quarter of a full shard: the last shards are small, so the
    workers finish nearly together rather than one computing a whole shard
    while the others wait (0.4-0.6 s at 1x with 2 workers, of 3.4-4.4 s).

    The ``first`` shard is a quarter of a full one too: the other workers
    wait for it while the plan reads it, and a full one kept a second worker
    idle for the first 0.13-0.24 s of a 1.3-1.5 s report at 1x. Shards of
    fewer than four stores (tests) have no quarter: their first is cut like
    the others.
    """
    full = settings.REPORT_SHARD_SIZE
    smallest = full // 4
    if first and smallest:
        return smallest
    return max(1, min(full, max(smallest, -(-left // 2))))


def _store_shards(report: Report, reader: str) -> Iterator[list[str]]:
    """The report's stores cut into shards as the query finds them, each :func:`shard_size` long.

    What is left is bounded by the stores in the report's scope (the fleet
    or the organization) less those planned: one count in the same snapshot,
    and exact where every store has a poll in the window, as at 1x.
    """
    stores = _report_store_ids(report, reader)
    in_scope = Store.objects.using(reader)
    if report.organization_id is not None:
        in_scope = in_scope.filter(organization_id=report.organization_id)
    left = in_scope.count()
    size = shard_size(left, first=True)
    while shard := list(islice(stores, size)):
        yield shard
        left -= len(shard)
        size = shard_size(left)


def _write_shards(report: Report, reader: str) -> bool:
    """Fix the report's snapshot, then write and queue its shards one by one; ``False`` if a newer plan took over.

    The totals (stores, shards) are known once the last shard is written,
    and are stored with ``planned_at`` in one update: until then the
    report's progress is 0 and nothing assembles it.

    A plan presumed dead (past its lease) that was only slow may have been
    replaced: its shards carry its number, so none of them is claimed or
    counted, and it stops at the next shard it would write.
    """
    assert report.as_of is not None
    this_plan = _unfinished_plan(report)
    last_poll = Poll.objects.using(reader).order_by("-id").values_list("id", flat=True).first()
    report.max_poll_id = last_poll or 0
    if not this_plan.update(max_poll_id=report.max_poll_id):
        return False
    report.stores_total = report.shards_total = 0
    # One shard's inputs in memory at a time: a 68k-store report's together weigh 100+ MB.
    for index, chunk in enumerate(_store_shards(report, reader)):
        inputs = planned_shard_inputs(chunk, reader, contiguous=report.organization_id is None)
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
                queue.queue_shard(shard.id)
        if not Conf.ORM:
            queue.queue_shard(shard.id)  # Redis: once the shard is committed, or a quick worker would not find it
        report.stores_total += len(chunk)
        report.shards_total = index + 1
    now = timezone.now()
    return bool(
        this_plan.update(
            planned_at=now, plan_renewed_at=now, stores_total=report.stores_total, shards_total=report.shards_total
        )
    )
