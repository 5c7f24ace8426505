"""Retention: polls older than ``POLL_RETENTION_DAYS`` and reports older than ``REPORT_RETENTION_DAYS`` go.

So do the successful task records past the newest ``TASK_SUCCESSES_KEPT``
(:mod:`loopmonitor.task_results`), which the cluster no longer prunes itself.

Polls are counted back from the newest poll in the database, the same
``now`` a report defaults to, so a static dataset is never emptied by the
clock. Reports are counted back from their creation, by the clock: they
are made in real time (:func:`reports.services.reports_delete_older_than`,
which ``cleanup_reports`` runs too, deletes them with their files).

Polls are deleted a slice of stores at a time, each slice its own short
transaction: one range of the ``(store, timestamp)`` index, no scan of the
table, and no lock held between slices, so a load or a report waits at
most one slice. A report still being computed reads the polls of the week
before its ``as_of`` (:func:`reports.selectors.polls_in_week`), so before each
slice the cutoff is moved back to the oldest week any unfinished report
reads; a report that completed only moments ago and has not stored its
extended CSV yet counts as unfinished. On PostgreSQL each slice first takes
a ``SHARE`` lock on the reports table, which waits for a report being
triggered to commit and holds new ones back until the slice commits (a few
milliseconds), so no report can start between the check and the delete.
SQLite has one writer at a time, which gives the same order.

A delete leaves the deleted polls in the table as dead rows until a
``VACUUM``; PostgreSQL's autovacuum would get round to it, but it may be off
(as on this project's servers), and then every later scan of the
``(store, time)`` index steps over them, the freed space is never reused
(the next loads grow the table instead) and the planner keeps the old row
count. So after deleting polls on PostgreSQL the prune runs
``VACUUM (ANALYZE, TRUNCATE false)`` on the polls table
(:func:`polls_vacuum`), outside any transaction (``VACUUM`` cannot run in
one). Its ``SHARE UPDATE EXCLUSIVE`` lock lets reports read and the delete
slices' rows be replaced on; a poll load (whose ``SHARE ROW EXCLUSIVE`` lock
conflicts with it) waits for it, about 0.75 s at 1x after a day and a half
of polls went (docs/benchmarks.md). ``TRUNCATE false`` skips giving the
table's empty tail back to the system, the one step that would take an
``ACCESS EXCLUSIVE`` lock and hold reports back; the space is reused by the
next polls. Inside a transaction (a caller's ``atomic`` block) it can only
``ANALYZE``, which still brings the planner's counts up to date.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from loopmonitor.sequences import chunked
from loopmonitor.task_results import task_successes_prune
from reports.models import Report
from reports.selectors import WEEK_WINDOW, latest_poll_time
from reports.services import reports_delete_older_than
from stores.data_version import data_version_bump
from stores.models import Poll, Store

#: Stores per delete: at 1x (13.6k stores) a day of polls goes in 28 slices of about 9k rows.
PRUNE_STORES_PER_SLICE = 500

Upkeep = Literal["", "vacuum", "analyze"]


@dataclass(frozen=True, slots=True)
class PruneResult:
    newest_poll: datetime | None
    cutoff: datetime | None
    polls_deleted: int
    reports_deleted: int
    seconds: float
    """The deletes' time; the upkeep after them is ``upkeep_seconds``."""
    polls_table_upkeep: Upkeep = ""
    """What :func:`polls_vacuum` ran after the delete ("" when nothing was deleted, or not on PostgreSQL)."""
    upkeep_seconds: float = 0.0
    task_successes_deleted: int = 0
    """Successful task records past the newest ``TASK_SUCCESSES_KEPT`` (:mod:`loopmonitor.task_results`)."""

    def summary(self) -> str:
        if self.newest_poll is None:
            polls = "no polls stored"
        else:
            polls = f"{self.polls_deleted} poll(s) before {self.cutoff:%Y-%m-%d %H:%M:%S} UTC deleted"
        summary = (
            f"{polls}; {self.reports_deleted} report(s) and {self.task_successes_deleted} successful task record(s)"
            f" deleted in {self.seconds:.1f} s"
        )
        if self.polls_table_upkeep:
            summary += f"; then the polls table: {self.polls_table_upkeep} in {self.upkeep_seconds:.1f} s"
        return summary


def _oldest_needed_instant() -> datetime | None:
    """The earliest poll instant an unfinished report (or one storing its extended CSV) still reads."""
    deadline = timezone.now() - timedelta(seconds=settings.REPORT_DEADLINE_SECONDS)
    reading = Report.objects.filter(
        Q(status__in=[Report.Status.PENDING, Report.Status.RUNNING])
        | Q(status=Report.Status.COMPLETE, extended_csv_file="", finished_at__gte=deadline)
    )
    oldest: datetime | None = reading.aggregate(oldest=Min("as_of"))["oldest"]
    return None if oldest is None else oldest - WEEK_WINDOW


def _hold_reports() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Report._meta.db_table} IN SHARE MODE")


def polls_delete_older_than(*, days: int, per_slice: int = PRUNE_STORES_PER_SLICE) -> tuple[datetime | None, int]:
    """Delete polls more than ``days`` older than the newest poll, sparing what running reports read.

    Returns the cutoff (``None``: no polls) and how many polls were deleted.
    """
    newest = latest_poll_time()
    if newest is None:
        return None, 0
    cutoff = newest - timedelta(days=days)
    store_ids = list(Store.objects.order_by("id").values_list("id", flat=True))
    deleted = 0
    for stores in chunked(store_ids, per_slice):
        in_slice = Poll.objects.filter(store_id__gte=stores[0], store_id__lte=stores[-1])
        with transaction.atomic():
            if not in_slice.filter(timestamp_utc__lt=cutoff).exists():
                continue
            # Polls will go, and a period report reaches back 93 days: bump the data version
            # (stores.data_version). First, unlike other writers: a trigger locks the version
            # and then inserts its report, which waits for the SHARE lock below; taken in the
            # other order, the two would deadlock.
            data_version_bump()
            _hold_reports()
            needed = _oldest_needed_instant()
            bound = cutoff if needed is None else min(cutoff, needed)
            old = in_slice.filter(timestamp_utc__lt=bound)
            deleted += old._raw_delete(old.db)
    return cutoff, deleted


def data_prune(*, poll_days: int | None = None, report_days: int | None = None) -> PruneResult:
    """Enforce both retentions (the settings unless overridden), prune task records; daily, and ``manage.py prune``."""
    started = time.perf_counter()
    poll_days = settings.POLL_RETENTION_DAYS if poll_days is None else poll_days
    report_days = settings.REPORT_RETENTION_DAYS if report_days is None else report_days
    newest = latest_poll_time()
    cutoff, polls = polls_delete_older_than(days=poll_days)
    reports = reports_delete_older_than(days=report_days)
    task_successes = task_successes_prune()
    upkeep_started = time.perf_counter()
    upkeep = polls_vacuum() if polls else ""
    upkeep_seconds = time.perf_counter() - upkeep_started
    return PruneResult(newest, cutoff, polls, reports, upkeep_started - started, upkeep, upkeep_seconds, task_successes)


def polls_vacuum() -> Upkeep:
    """Clear the polls table's dead rows and refresh its statistics after a delete; returns what ran.

    ``VACUUM (ANALYZE)`` on PostgreSQL outside a transaction, ``ANALYZE``
    inside one (see the module's docstring); nothing on SQLite, which reuses
    a deleted row's page by itself and plans without statistics.
    """
    if connection.vendor != "postgresql":
        return ""
    table = Poll._meta.db_table
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute(f"ANALYZE {table}")
            return "analyze"
        cursor.execute(f"VACUUM (ANALYZE, TRUNCATE false) {table}")
    return "vacuum"
