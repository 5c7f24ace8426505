"""The inbox: settled files of known names load in name order, a file still being written waits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from ingestion.models import IngestRun
from ingestion.tasks import scan_inbox
from stores.models import BusinessHours, Poll, Store

pytestmark = pytest.mark.django_db

ZONES = "store_id,timezone_str\n1,Asia/Tokyo\n"
HOURS = "store_id,day,start_time_local,end_time_local\n1,0,09:00:00,17:00:00\n"


def polls(hour: int) -> str:
    return f"store_id,status,timestamp_utc\n1,active,2023-01-22 {hour:02d}:00:00 UTC\n"


def drop(inbox: Path, name: str, text: str, *, age: float = 120) -> Path:
    path = inbox / name
    path.write_text(text)
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def inbox(settings: Settings, tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    settings.INGEST_INBOX = str(folder)
    settings.INGEST_INBOX_SETTLE_SECONDS = 30
    return folder


def test_settled_files_load_in_name_order_and_move_to_done_next_to_their_run(inbox: Path) -> None:
    drop(inbox, "timezones-1.csv", ZONES)
    drop(inbox, "polls-2023-01-22T11.csv", polls(11))
    drop(inbox, "hours-1.csv", HOURS)
    drop(inbox, "polls-2023-01-22T10.csv", polls(10))
    drop(inbox, "readme.txt", "not for loading")
    drop(inbox, "polls-2023-01-22T12.csv.part", polls(12))

    loaded = scan_inbox()

    runs = list(IngestRun.objects.order_by("id"))
    assert loaded == 4
    assert [run.file_name for run in runs] == [
        "hours-1.csv",
        "polls-2023-01-22T10.csv",
        "polls-2023-01-22T11.csv",
        "timezones-1.csv",
    ]
    assert {run.source for run in runs} == {"inbox"}
    assert all(run.status == "complete" for run in runs)
    assert sorted(path.name for path in (inbox / "done").iterdir()) == sorted(
        f"{run.pk}-{run.file_name}" for run in runs
    )
    assert all(Path(run.source_path) == inbox / "done" / f"{run.pk}-{run.file_name}" for run in runs)
    assert sorted(path.name for path in inbox.iterdir() if path.is_file()) == [
        "polls-2023-01-22T12.csv.part",
        "readme.txt",
    ]
    assert Poll.objects.count() == 2
    assert BusinessHours.objects.count() == 1
    assert Store.objects.get(id="1").timezone == "Asia/Tokyo"


def test_a_file_still_being_written_is_skipped_and_holds_back_the_files_after_it(inbox: Path) -> None:
    drop(inbox, "polls-10.csv", polls(10))
    drop(inbox, "polls-11.csv", polls(11)[:30], age=1)  # written a second ago: maybe still growing
    drop(inbox, "polls-12.csv", polls(12))

    first = scan_inbox()
    (inbox / "polls-11.csv").write_text(polls(11))
    moment = time.time() - 60
    os.utime(inbox / "polls-11.csv", (moment, moment))
    second = scan_inbox()

    assert (first, second) == (1, 2)
    assert [run.file_name for run in IngestRun.objects.order_by("id")] == [
        "polls-10.csv",
        "polls-11.csv",
        "polls-12.csv",
    ]
    assert Poll.objects.count() == 3
    assert not IngestRun.objects.filter(rejected__gt=0).exists()


def test_a_bad_file_moves_to_failed_and_the_next_one_still_loads(inbox: Path) -> None:
    drop(inbox, "polls-1.csv", "store_id,when\n1,2\n")
    drop(inbox, "polls-2.csv", polls(10))

    scan_inbox()

    bad, good = IngestRun.objects.order_by("id")
    assert (bad.status, good.status) == ("failed", "complete")
    assert "missing column" in bad.error
    assert [path.name for path in (inbox / "failed").iterdir()] == [f"{bad.pk}-polls-1.csv"]
    assert [path.name for path in (inbox / "done").iterdir()] == [f"{good.pk}-polls-2.csv"]


def test_without_an_inbox_the_schedule_does_nothing(settings: Settings) -> None:
    settings.INGEST_INBOX = ""

    assert scan_inbox() == 0


def test_the_inbox_schedule_is_created_by_a_migration() -> None:
    from django_q.models import Schedule

    schedule = Schedule.objects.get(func="ingestion.tasks.scan_inbox")
    assert (schedule.schedule_type, schedule.minutes) == ("I", 1)
