"""Claims on a report's work: the lease, the heartbeat that renews a claim, and which claims are live.

Every move of a shard or plan after its claim is an update conditional on that claim
(:func:`this_claim`), so a worker whose claim was taken over changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from reports.models import Report, ReportShard
from reports.signals import report_finished

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def lease() -> timedelta:
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


def report_fail(report_id: str, error: str, *, plan_attempt: int | None = None) -> None:
    """End an unfinished report Failed; with ``plan_attempt``, only while that plan is the report's latest."""
    unfinished = Report.objects.filter(id=report_id, status__in=[Report.Status.PENDING, Report.Status.RUNNING])
    if plan_attempt is not None:
        unfinished = unfinished.filter(plan_attempts=plan_attempt)
    if unfinished.update(status=Report.Status.FAILED, error=error, finished_at=timezone.now()):
        report_finished.send(sender=Report, report_id=report_id, status=Report.Status.FAILED)
