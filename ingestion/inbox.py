"""The inbox: CSV files dropped in ``INGEST_INBOX`` are loaded by a schedule, in name order.

A file is picked by its name: ``<kind>*.csv`` for each kind in
:data:`~ingestion.kinds.INGEST_KINDS` (``polls-2024-05-01T10.csv``). It is
loaded like any other file, as an :class:`~ingestion.models.IngestRun`
with source ``inbox``, then moved to ``done/`` (loaded, even with rejected
rows) or ``failed/`` (refused as a whole, nothing stored), renamed
``<run id>-<name>`` so it sits next to its run.

A file still being written must not be loaded half: a file is only picked
once it has not changed for ``INGEST_INBOX_SETTLE_SECONDS`` (its mtime), and
names ending in ``.part`` never match (write ``x.csv.part``, then rename it
to ``x.csv``, for a file that is picked at once). Files are taken strictly in
name order: a file that has not settled yet holds back the ones after it,
so ``polls-10.csv`` never loads before ``polls-09.csv``.

Before loading, a file is moved into ``processing/`` with one atomic rename,
so two scans running at once (a long load outlasting the schedule's
interval) never load the same file twice.

A file left in ``processing/`` was being loaded by a worker that died (a
``kill -9``, the cluster's timeout, a lost machine). Each scan first looks
there (:func:`inbox_recover`): a file whose run finished (the worker died
between committing and moving it) goes to ``done/`` or ``failed/`` as its
run says, without loading again; a file whose run is abandoned is put back
in the inbox, under its own name and before the files after it, and loads
again in that scan, once: abandoned a second time, it goes to ``failed/``.
A run is abandoned when no process holds it any more: on PostgreSQL the
loading scan holds a session advisory lock on the run while it loads, which
the server drops the moment that process's connection goes, so the next
scan sees it at once; elsewhere (SQLite) when it started longer ago than
``INGEST_INBOX_LEASE_SECONDS``, which defaults to the cluster's task timeout,
past which django-q2 has killed the task anyway. Re-loading is safe: a dead
worker's transaction rolled back, and one that had committed is repeated by
an idempotent loader (the same file again changes nothing).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ingestion.errors import BadInputFile
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.runs import ingest_run_load, ingest_run_start

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"

#: The error of a run whose worker died; a run with it whose file went back to the inbox was retried once.
ABANDONED = "abandoned: the worker loading this file stopped before it finished"

#: The first key of the advisory locks an inbox load holds on its run (the second is the run's id).
_LOCK_CLASS = 17_001


def inbox_kind(name: str) -> str | None:
    """The kind a file name asks for, or ``None`` when the inbox ignores the file."""
    lowered = name.lower()
    if not lowered.endswith(".csv"):
        return None
    for kind in INGEST_KINDS:
        if lowered.startswith(kind):
            return kind
    return None


def inbox_pending(inbox: Path) -> list[Path]:
    """The files the inbox would load, in name order (settled or not)."""
    return sorted(
        (path for path in inbox.iterdir() if path.is_file() and inbox_kind(path.name) is not None),
        key=lambda path: path.name,
    )


def inbox_scan(*, inbox: Path, settle_seconds: float) -> list[IngestRun]:
    """Load every settled file in name order, stopping at the first that has not settled; returns the runs."""
    for folder in (PROCESSING, DONE, FAILED):
        (inbox / folder).mkdir(exist_ok=True)
    inbox_recover(inbox=inbox, lease_seconds=settings.INGEST_INBOX_LEASE_SECONDS)
    runs: list[IngestRun] = []
    for path in inbox_pending(inbox):
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:  # taken by another scan meanwhile
            continue
        if age < settle_seconds:
            break
        run = _load_one(inbox, path)
        if run is not None:
            runs.append(run)
    return runs


def _load_one(inbox: Path, path: Path) -> IngestRun | None:
    claimed = inbox / PROCESSING / path.name
    try:
        os.rename(path, claimed)
    except FileNotFoundError:  # another scan claimed it first
        return None
    kind = inbox_kind(path.name)
    assert kind is not None
    run = ingest_run_start(
        kind=kind, source=IngestRun.Source.INBOX, file_name=path.name, bytes_total=claimed.stat().st_size
    )
    folder = DONE
    with _holding(run):
        # Where the file is while it loads: how a later scan finds the run of a
        # file left there. Only once the lock is held, so no scan takes the run
        # for abandoned in between.
        IngestRun.objects.filter(pk=run.pk).update(source_path=str(claimed))
        run.source_path = str(claimed)
        try:
            ingest_run_load(run, path=claimed)
        except BadInputFile:
            folder = FAILED
        except Exception:
            folder = FAILED
            logger.exception("inbox: loading %s failed", path.name)
        _move(run, claimed, inbox / folder / f"{run.pk}-{path.name}")
    return run


def _move(run: IngestRun, source: Path, target: Path) -> None:
    os.rename(source, target)
    run.source_path = str(target)
    IngestRun.objects.filter(pk=run.pk).update(source_path=run.source_path)


@contextlib.contextmanager
def _holding(run: IngestRun) -> Iterator[None]:
    """Hold the run's advisory lock (PostgreSQL) while its file loads: the server drops it if this process dies."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, run.pk])


def _abandoned(run: IngestRun, *, lease_seconds: float) -> bool:
    """Whether no live process holds this run (loading its file, or moving it on) any more."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk])
            (free,) = cursor.fetchone()
            if free:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, run.pk])
        return bool(free)
    return run.started_at < timezone.now() - timedelta(seconds=lease_seconds)


def _retried_before(run: IngestRun, inbox: Path) -> bool:
    """Whether this file's previous inbox run was abandoned too and put back: then it has had its one retry."""
    previous = (
        IngestRun.objects.filter(source=IngestRun.Source.INBOX, file_name=run.file_name, pk__lt=run.pk)
        .order_by("-pk")
        .first()
    )
    return previous is not None and previous.error == ABANDONED and previous.source_path == str(inbox / run.file_name)


def inbox_recover(*, inbox: Path, lease_seconds: float) -> list[IngestRun]:
    """Deal with the files a dead worker left in ``processing/``; returns the runs found abandoned.

    A file whose run finished moves on as its run says; a file of an
    abandoned run goes back to the inbox (once) or to ``failed/``; a file
    whose run is still held by its scan, or a claim too fresh to have a run
    yet, stays. Without PostgreSQL "held" is "started within the lease", for
    a finished run too.
    """
    abandoned: list[IngestRun] = []
    for stuck in sorted((inbox / PROCESSING).iterdir()):
        run = IngestRun.objects.filter(source=IngestRun.Source.INBOX, source_path=str(stuck)).order_by("-pk").first()
        if run is None:
            # Claimed by a scan that died before recording its run (or is about to record it).
            if time.time() - stuck.stat().st_ctime > lease_seconds:
                logger.warning("inbox: %s was left in processing/ with no run; put back in the inbox", stuck.name)
                os.rename(stuck, inbox / stuck.name)
            continue
        if not _abandoned(run, lease_seconds=lease_seconds):
            continue  # still in the hands of its scan, which may be moving it on this instant
        if run.status != IngestRun.Status.RUNNING:
            folder = DONE if run.status == IngestRun.Status.COMPLETE else FAILED
            logger.warning("inbox: %s was loaded by run %s but not moved; moved to %s/", stuck.name, run.pk, folder)
            _move(run, stuck, inbox / folder / f"{run.pk}-{stuck.name}")
            continue
        run.status, run.error, run.finished_at = IngestRun.Status.FAILED, ABANDONED, timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        abandoned.append(run)
        if _retried_before(run, inbox):
            logger.error("inbox: %s was abandoned twice; moved to failed/", stuck.name)
            _move(run, stuck, inbox / FAILED / f"{run.pk}-{stuck.name}")
        else:
            logger.warning("inbox: %s was abandoned by run %s; put back in the inbox to load again", stuck.name, run.pk)
            _move(run, stuck, inbox / stuck.name)
    return abandoned


def inbox_scan_configured() -> list[IngestRun]:
    """:func:`inbox_scan` of ``settings.INGEST_INBOX``; nothing when it is not set."""
    if not settings.INGEST_INBOX:
        return []
    inbox = Path(settings.INGEST_INBOX)
    if not inbox.is_dir():
        logger.error("INGEST_INBOX %s is not a directory", inbox)
        return []
    return inbox_scan(inbox=inbox, settle_seconds=settings.INGEST_INBOX_SETTLE_SECONDS)
