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
interval) never load the same file twice; a file left there was being
loaded by a worker that died, and is reported by name in the log.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings

from ingestion.errors import BadInputFile
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.runs import ingest_run_load, ingest_run_start

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"


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
    for stuck in (inbox / PROCESSING).iterdir():
        logger.warning("inbox: %s was left in processing/ by a load that did not finish", stuck.name)
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
    try:
        ingest_run_load(run, path=claimed)
    except BadInputFile:
        folder = FAILED
    except Exception:
        folder = FAILED
        logger.exception("inbox: loading %s failed", path.name)
    target = inbox / folder / f"{run.pk}-{path.name}"
    os.rename(claimed, target)
    run.source_path = str(target)
    run.save(update_fields=["source_path"])
    return run


def inbox_scan_configured() -> list[IngestRun]:
    """:func:`inbox_scan` of ``settings.INGEST_INBOX``; nothing when it is not set."""
    if not settings.INGEST_INBOX:
        return []
    inbox = Path(settings.INGEST_INBOX)
    if not inbox.is_dir():
        logger.error("INGEST_INBOX %s is not a directory", inbox)
        return []
    return inbox_scan(inbox=inbox, settle_seconds=settings.INGEST_INBOX_SETTLE_SECONDS)
