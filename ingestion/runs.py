"""Loading a file as an :class:`~ingestion.models.IngestRun`: the one path every source takes.

:func:`ingest_run_start` records who sent which file; :func:`ingest_run_load`
runs the kind's loader on it and records the outcome: the counts, the
first rejected rows, a CSV of all of them, or the reason the file as a
whole was refused (:class:`~ingestion.errors.BadInputFile`, re-raised for
the caller to answer). The run row is written outside the load's
transaction, so a load that rolls back still leaves its ``failed`` run.

Progress: the load runs in one transaction, so writes to the run on the
same connection would stay invisible until the end. On PostgreSQL the
loader's byte counts go to the run through a short-lived second
connection, at most once a second; SQLite has one writer at a time (the
load holds it), so there the run shows its progress only at the end.
"""

from __future__ import annotations

import contextlib
import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files import File
from django.db import connection, connections, transaction
from django.http import FileResponse, Http404
from django.utils import timezone

from ingestion.csvfile import CsvRows
from ingestion.errors import BadInputFile, Rejection
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.rejects import RejectsCollector
from ingestion.services import IngestResult

#: Rejected rows kept on the run (and in the API's answer); the rejects CSV has every one.
REJECTS_SHOWN = 100
PROGRESS_EVERY_SECONDS = 1.0

RejectSink = Callable[[Rejection], None]


def _account(user: AbstractBaseUser | AnonymousUser | None) -> Any:
    return user if user is not None and user.is_authenticated else None


def ingest_run_start(
    *,
    kind: str,
    source: str,
    file_name: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    bytes_total: int = 0,
    format: str = IngestRun.Format.CSV,
    idempotency_key: str = "",
) -> IngestRun:
    """A new running run; with an ``idempotency_key`` already used, raises :class:`IntegrityError`."""
    if kind not in INGEST_KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    with transaction.atomic():
        return IngestRun.objects.create(
            kind=kind,
            source=source,
            file_name=file_name[:255],
            user=_account(user),
            bytes_total=bytes_total,
            format=format,
            idempotency_key=idempotency_key,
        )


def ingest_run_for_key(*, user: AbstractBaseUser | AnonymousUser | None, kind: str, key: str) -> IngestRun | None:
    """The run an earlier request with this ``Idempotency-Key`` made, if any."""
    if not key:
        return None
    return IngestRun.objects.filter(user=_account(user), kind=kind, idempotency_key=key).first()


class _Progress:
    """The loader's ``on_progress``: adds up bytes and writes them to the run now and then."""

    def __init__(self, run: IngestRun, *, also: Callable[[int], object] | None = None) -> None:
        self.run = run
        self.also = also
        self.done = 0
        self.written_at = time.monotonic()

    def __call__(self, consumed: int) -> None:
        self.done += consumed
        if self.also is not None:
            self.also(consumed)
        if connection.vendor != "postgresql" or time.monotonic() - self.written_at < PROGRESS_EVERY_SECONDS:
            return
        self.written_at = time.monotonic()
        side = connections.create_connection("default")
        try:
            with side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {IngestRun._meta.db_table} SET bytes_done = %s WHERE id = %s", [self.done, self.run.pk]
                )
        finally:
            side.close()


def _both(first: RejectSink, second: RejectSink | None) -> RejectSink:
    if second is None:
        return first

    def sink(rejection: Rejection) -> None:
        first(rejection)
        second(rejection)

    return sink


def _record(run: IngestRun, result: IngestResult, collector: RejectsCollector) -> None:
    run.status = IngestRun.Status.COMPLETE
    run.read = result.read
    run.stored = result.inserted
    run.updated = result.updated
    run.removed = result.removed
    run.rejected = result.rejected
    run.unchanged = max(0, result.read - result.rejected - result.inserted - result.updated)
    run.stores_unchanged = result.kept
    run.rejects_shown = [{"line": rejection.line, "reason": rejection.reason} for rejection in collector.kept]


def ingest_run_load(
    run: IngestRun,
    *,
    path: Path | str,
    on_reject: RejectSink | None = None,
    on_progress: Callable[[int], object] | None = None,
) -> tuple[IngestRun, IngestResult]:
    """Load ``path`` as ``run``'s kind and record the outcome; a bad file is recorded, then re-raised."""
    kind = INGEST_KINDS[run.kind]
    path = Path(path)
    if not run.bytes_total and path.is_file():
        run.bytes_total = path.stat().st_size
    options: dict[str, Any] = {"json": True} if run.format == IngestRun.Format.JSON else {}
    progress = _Progress(run, also=on_progress)
    with tempfile.TemporaryDirectory(prefix="loopmonitor-run-") as directory:
        rejects_path = Path(directory) / "rejects.csv"
        with rejects_path.open("w", newline="", encoding="utf-8") as rejects:
            collector = RejectsCollector(shown=REJECTS_SHOWN, writer=csv.writer(rejects), file_name=run.file_name)
            try:
                result = kind.load(path=path, on_reject=_both(collector, on_reject), on_progress=progress, **options)
            except BadInputFile as error:
                _finish(run, status=IngestRun.Status.FAILED, error=error.reason)
                raise
            except BaseException:
                _finish(run, status=IngestRun.Status.FAILED, error="the load stopped on an unexpected error")
                raise
        _record(run, result, collector)
        if collector.count:
            with rejects_path.open("rb") as handle:
                run.rejects_file.save(f"run-{run.pk}-rejects.csv", File(handle), save=False)
    _finish(run, status=IngestRun.Status.COMPLETE, done=progress.done)
    return run, result


def ingest_run_fail(run: IngestRun, *, error: str) -> None:
    """End a run that never loaded: its file was refused before a worker got it."""
    _finish(run, status=IngestRun.Status.FAILED, error=error)


def _finish(run: IngestRun, *, status: str, error: str = "", done: int | None = None) -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    if done is not None:
        run.bytes_done = max(done, run.bytes_total)
    if run.upload:
        run.upload.delete(save=False)
    run.save()


def ingest_run_store_upload(run: IngestRun, *, handle: Any, name: str) -> None:
    """Keep a large upload in storage for the worker that will load it."""
    run.upload.save(f"run-{run.pk}-{Path(name).name or 'upload'}", File(handle), save=True)


def ingest_run_queue(run: IngestRun) -> None:
    """Have a worker load the run's stored upload once this transaction commits."""
    from django_q.tasks import async_task

    run_id = run.pk
    transaction.on_commit(
        lambda: async_task("ingestion.tasks.run_ingest", run_id, task_name=f"ingest-{run_id}", group="ingest")
    )


def ingest_run_from_upload(*, run_id: int) -> IngestRun | None:
    """The worker's side of :func:`ingest_run_queue`; a run already finished (a retried task) is left alone."""
    run = IngestRun.objects.filter(pk=run_id, status=IngestRun.Status.RUNNING).first()
    if run is None or not run.upload:
        return run
    with tempfile.TemporaryDirectory(prefix="loopmonitor-upload-") as directory:
        try:
            path = Path(run.upload.path)
        except NotImplementedError:  # a storage without local paths: copy it here first
            path = Path(directory) / "upload"
            with run.upload.open("rb") as source, path.open("wb") as target:
                for chunk in source.chunks():
                    target.write(chunk)
        with contextlib.suppress(BadInputFile):  # recorded on the run
            ingest_run_load(run, path=path)
    return run


def ingest_file_check(*, kind: str, path: Path, format: str) -> None:
    """Refuse a file whose start already shows it cannot load (header, encoding), before it is queued."""
    if format == IngestRun.Format.JSON:
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip()
        if not start.startswith(b"["):
            raise BadInputFile(str(path), "not a JSON array")
        return
    rows = iter(CsvRows(path, INGEST_KINDS[kind].columns))
    try:
        next(rows, None)
    finally:
        rows.close()  # type: ignore[attr-defined]


def ingest_run_rejects_download(run: IngestRun) -> FileResponse:
    """A run's rejects CSV as a download (the admin's and the API's); 404 when it rejected no row."""
    if not run.rejects_file:
        raise Http404("this run rejected no rows")
    return FileResponse(
        run.rejects_file.open("rb"), as_attachment=True, filename=f"run-{run.pk}-rejects.csv", content_type="text/csv"
    )
