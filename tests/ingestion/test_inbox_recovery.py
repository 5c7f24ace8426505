"""The inbox recovers the files a dead worker left in ``processing/``: each loads once, exactly."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_q.tasks import async_task
from pytest_django.fixtures import Settings

from ingestion.inbox import _LOCK_CLASS, ABANDONED, inbox_recover
from ingestion.models import IngestRun
from ingestion.runs import ingest_run_load, ingest_run_start
from ingestion.tasks import scan_inbox
from stores.models import Poll
from tests.reports.conftest import RunQueuedTasks, run_queued_tasks  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

LEASE = 600


def polls(hour: int, stores: int = 3) -> str:
    rows = "".join(f"{store},active,2023-01-22 {hour:02d}:00:00 UTC\n" for store in range(1, stores + 1))
    return "store_id,status,timestamp_utc\n" + rows


@pytest.fixture
def inbox(settings: Settings, tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    for sub in ("", "processing", "done", "failed"):
        (folder / sub).mkdir(exist_ok=True)
    settings.INGEST_INBOX = str(folder)
    settings.INGEST_INBOX_SETTLE_SECONDS = 30
    settings.INGEST_INBOX_LEASE_SECONDS = LEASE
    return folder


def settled(path: Path, text: str) -> Path:
    path.write_text(text)
    moment = time.time() - 120
    os.utime(path, (moment, moment))
    return path


def left_by_a_dead_worker(inbox: Path, name: str, text: str, *, committed: bool = False) -> IngestRun:
    """What a scan leaves when its process dies mid-load: the file in processing/, its run still running.

    ``committed``: it died after the load committed but before the run was recorded and the file moved.
    Its start is older than the lease; no process holds its lock.
    """
    claimed = settled(inbox / "processing" / name, text)
    run = ingest_run_start(kind="polls", source=IngestRun.Source.INBOX, file_name=name)
    if committed:
        ingest_run_load(run, path=claimed)
        run.status = IngestRun.Status.RUNNING
    run.source_path = str(claimed)
    run.save()
    IngestRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=LEASE + 60))
    return run


@contextlib.contextmanager
def still_loading(run: IngestRun) -> Iterator[None]:
    """Another process is loading the run: it holds the run's lock (PostgreSQL), or it started within the lease."""
    if connection.vendor != "postgresql":
        IngestRun.objects.filter(pk=run.pk).update(started_at=timezone.now())
        yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk])
        yield
    finally:
        other.close()


def test_a_file_abandoned_mid_load_goes_back_and_loads_once_in_name_order(inbox: Path) -> None:
    dead = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10))
    settled(inbox / "polls-11.csv", polls(11))

    loaded = scan_inbox()

    dead.refresh_from_db()
    retried, later = IngestRun.objects.filter(pk__gt=dead.pk).order_by("pk")
    assert loaded == 2
    assert (dead.status, dead.error, dead.source_path) == ("failed", ABANDONED, str(inbox / "polls-10.csv"))
    assert (retried.file_name, retried.status, retried.read, retried.stored) == ("polls-10.csv", "complete", 3, 3)
    assert (later.file_name, later.status, later.stored) == ("polls-11.csv", "complete", 3)
    assert sorted(path.name for path in (inbox / "done").iterdir()) == [
        f"{retried.pk}-polls-10.csv",
        f"{later.pk}-polls-11.csv",
    ]
    assert not list((inbox / "processing").iterdir())
    assert Poll.objects.count() == 6


def test_a_file_whose_load_committed_before_the_worker_died_loads_nothing_twice(inbox: Path) -> None:
    dead = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10), committed=True)

    scan_inbox()

    retried = IngestRun.objects.get(pk__gt=dead.pk)
    assert (retried.status, retried.read, retried.stored, retried.updated, retried.unchanged) == (
        "complete",
        3,
        0,
        0,
        3,
    )
    assert Poll.objects.count() == 3


def test_a_file_whose_run_finished_but_was_not_moved_moves_on_without_loading_again(inbox: Path) -> None:
    run = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10), committed=True)
    IngestRun.objects.filter(pk=run.pk).update(status=IngestRun.Status.COMPLETE)

    assert scan_inbox() == 0

    run.refresh_from_db()
    assert [path.name for path in (inbox / "done").iterdir()] == [f"{run.pk}-polls-10.csv"]
    assert run.source_path == str(inbox / "done" / f"{run.pk}-polls-10.csv")
    assert IngestRun.objects.count() == 1
    assert Poll.objects.count() == 3


def test_a_finished_run_whose_scan_is_still_moving_its_file_on_is_left_to_it(inbox: Path) -> None:
    run = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10), committed=True)
    IngestRun.objects.filter(pk=run.pk).update(status=IngestRun.Status.COMPLETE)

    with still_loading(run):
        assert scan_inbox() == 0

    assert [path.name for path in (inbox / "processing").iterdir()] == ["polls-10.csv"]
    assert not list((inbox / "done").iterdir())


def test_a_file_still_being_loaded_by_a_live_worker_is_left_alone_and_holds_nothing_back(inbox: Path) -> None:
    live = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10))
    settled(inbox / "polls-11.csv", polls(11))

    with still_loading(live):
        loaded = scan_inbox()

    live.refresh_from_db()
    assert loaded == 1
    assert live.status == "running"
    assert [path.name for path in (inbox / "processing").iterdir()] == ["polls-10.csv"]
    assert Poll.objects.count() == 3


def test_a_file_abandoned_a_second_time_goes_to_failed(inbox: Path) -> None:
    first = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10))
    first.status, first.error, first.source_path = IngestRun.Status.FAILED, ABANDONED, str(inbox / "polls-10.csv")
    first.save()
    second = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10))

    assert scan_inbox() == 0

    second.refresh_from_db()
    assert (second.status, second.error) == ("failed", ABANDONED)
    assert [path.name for path in (inbox / "failed").iterdir()] == [f"{second.pk}-polls-10.csv"]
    assert not list((inbox / "processing").iterdir())
    assert Poll.objects.count() == 0


def test_a_claim_with_no_run_goes_back_only_once_older_than_the_lease(inbox: Path) -> None:
    claimed = settled(inbox / "processing" / "polls-10.csv", polls(10))

    assert scan_inbox() == 0  # just claimed: its scan may be recording the run right now
    assert claimed.exists()
    time.sleep(0.01)
    assert inbox_recover(inbox=inbox, lease_seconds=0) == []  # no run to fail: the file only goes back
    assert (inbox / "polls-10.csv").exists()
    assert scan_inbox() == 1
    assert Poll.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_recovers_an_abandoned_file_through_a_django_q2_worker(
    inbox: Path,
    run_queued_tasks: RunQueuedTasks,  # noqa: F811
) -> None:
    dead = left_by_a_dead_worker(inbox, "polls-10.csv", polls(10, stores=50))

    async_task("ingestion.tasks.scan_inbox")
    ran = run_queued_tasks()

    dead.refresh_from_db()
    retried = IngestRun.objects.get(pk__gt=dead.pk)
    assert ran == 1
    assert (dead.status, retried.status, retried.stored) == ("failed", "complete", 50)
    assert [path.name for path in (inbox / "done").iterdir()] == [f"{retried.pk}-polls-10.csv"]
    assert Poll.objects.count() == 50


@pytest.mark.django_db(transaction=True)
def test_a_scan_killed_mid_load_is_recovered_by_the_next_scan_and_its_file_loads_once(
    inbox: Path, settings: Settings
) -> None:
    """The real thing: a scan in another process is killed with SIGKILL while it loads; the next scan recovers."""
    from tests.reports.test_qcluster_live import this_tests_database_url

    # Large enough to be loading for seconds after its claim even on a fast machine:
    # 200k rows were all stored within the half second below on an AMD EPYC VM.
    count = 600_000
    start = datetime(2023, 1, 1, tzinfo=UTC)
    rows = (f"store-{n % 500},active,{start + timedelta(seconds=n):%Y-%m-%d %H:%M:%S} UTC\n" for n in range(count))
    settled(inbox / "polls-1.csv", "store_id,status,timestamp_utc\n" + "".join(rows))
    scan = (
        "from pathlib import Path; from ingestion.inbox import inbox_scan; "
        f"inbox_scan(inbox=Path({str(inbox)!r}), settle_seconds=0)"
    )
    env = {**os.environ, "DATABASE_URL": this_tests_database_url(), "DEBUG": "1", "INGEST_INBOX_LEASE_SECONDS": "600"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", scan],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not IngestRun.objects.filter(source_path=str(inbox / "processing" / "polls-1.csv")).exists():
            assert process.poll() is None, "the scan ended before it claimed the file"
            assert time.monotonic() < deadline, "the scan never claimed the file"
            time.sleep(0.05)
        time.sleep(0.3)  # well into the load
        assert process.poll() is None, "the load finished before it could be killed: make the file larger"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    dead = IngestRun.objects.get()
    assert dead.status == "running"
    if connection.vendor != "postgresql":
        settings.INGEST_INBOX_LEASE_SECONDS = 0  # no lock to see: the lease decides

    deadline = time.monotonic() + 30
    while scan_inbox() == 0:  # PostgreSQL ends the dead client's backend, and frees its lock, in a moment
        assert time.monotonic() < deadline, "the abandoned file was never loaded again"
        time.sleep(0.2)

    dead.refresh_from_db()
    retried = IngestRun.objects.get(pk__gt=dead.pk)
    assert (dead.status, dead.error) == ("failed", ABANDONED)
    assert (retried.status, retried.read, retried.stored, retried.rejected) == ("complete", count, count, 0)
    assert [path.name for path in (inbox / "done").iterdir()] == [f"{retried.pk}-polls-1.csv"]
    assert Poll.objects.count() == count
