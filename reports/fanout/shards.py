"""A shard's run: claim it, compute its rows under a heartbeat, store them with its status in one update."""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from loopmonitor.error_ids import logged_error_id
from reports.engine.units import to_instant
from reports.fanout import queue
from reports.fanout.assembly import report_assemble
from reports.fanout.claims import claimable_shards, heartbeat, lease, report_fail, this_claim, worker_name
from reports.models import Report, ReportShard
from reports.period_selectors import period_store_polls
from reports.period_services import report_rows_of
from reports.selectors import store_polls
from reports.services import consistent_read, cyclic_gc_paused, report_rows
from reports.snapshot import shard_store_inputs

logger = logging.getLogger(__name__)


def shard_compute(shard: ReportShard, *, now: datetime, max_poll_id: int | None) -> str:
    """The shard's CSV rows (no header), from its own inputs and the polls of its snapshot."""
    store_ids = [store_id for store_id, _, _ in shard.inputs]
    out = io.StringIO()
    if store_ids:
        with cyclic_gc_paused():
            with consistent_read():
                # An organization's stores are scattered over the id range, not a contiguous run.
                contiguous = shard.report.organization_id is None
                polls = store_polls(now, store_ids, contiguous=contiguous, max_poll_id=max_poll_id)
            csv.writer(out, lineterminator="\n").writerows(
                report_rows(to_instant(now), shard_store_inputs(shard, polls))
            )
    return out.getvalue()


def shard_compute_of(shard: ReportShard, report: Report) -> str:
    """The shard's rows for its report's kind: the fixed windows at ``now``, or the report's period."""
    if not report.is_period:
        assert report.as_of is not None
        return shard_compute(shard, now=report.as_of, max_poll_id=report.max_poll_id)
    assert report.start is not None and report.end is not None
    store_ids = [store_id for store_id, _, _ in shard.inputs]
    out = io.StringIO()
    if store_ids:
        with consistent_read():
            polls = period_store_polls(report.start, report.end, store_ids, max_poll_id=report.max_poll_id)
        csv.writer(out, lineterminator="\n").writerows(report_rows_of(report, shard_store_inputs(shard, polls)))
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
            rows_csv = _through_database_blips(lambda: shard_compute_of(shard, report), lost)
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
        claimable_shards(now - lease()),
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
            report_fail(
                shard.report_id, f"{message} (after {shard.attempts} attempts)", plan_attempt=shard.plan_attempt
            )
    elif claim.update(status=ReportShard.Status.PENDING, error=message):
        queue.queue_shard(shard.id)
    else:
        logger.warning("shard %s failed after its claim was taken over: %s", shard.id, message)
