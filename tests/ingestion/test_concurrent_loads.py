"""Two loads at once, each in its own thread with its own connection.

To make the race certain rather than likely, the first load runs inside an
outer transaction that stays open (a slow commit) until the second load is
seen waiting on a lock; then the first commits. On PostgreSQL the wait shows
in ``pg_stat_activity``. Under READ COMMITTED the second load then either
replaces what the first stored (locked stores) or mixes both files (no
locks), or fails on the primary key of a store the first one created.

On SQLite every write transaction takes the database's write lock up front
(``IMMEDIATE``), so the second load can only wait for the first to commit:
the same tests hold the same outcome there, and prove the wait by the second
load still running while the first holds its transaction open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import time as clock
from pathlib import Path

import pytest
from django.db import connection, transaction

from ingestion.services import hours_ingest, polls_ingest, timezones_ingest
from stores.models import BusinessHours, Poll, Store

pytestmark = [pytest.mark.django_db(transaction=True)]

WriteCsv = Callable[[str, str], Path]
HOURS = "store_id,day,start_time_local,end_time_local\n"


def schedule(store_id: str) -> list[tuple[int, clock, clock]]:
    return list(
        BusinessHours.objects.filter(store_id=store_id)
        .order_by("day_of_week", "start_time_local")
        .values_list("day_of_week", "start_time_local", "end_time_local")
    )


def wait_until_the_second_load_waits(racer: threading.Thread, timeout: float = 20.0) -> None:
    if connection.vendor != "postgresql":
        # SQLite has no view of waiting connections: give the racer time to reach the lock, then
        # check it is still blocked (it cannot finish while the holder's write transaction is open).
        time.sleep(0.5)
        assert racer.is_alive(), "the second load finished while the first held the database"
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second load never waited on a lock")


class Load(threading.Thread):
    """Runs ``work`` on its own connection; with ``hold``, commits only once ``release`` is set."""

    def __init__(self, work: Callable[[], object], *, hold: bool = False) -> None:
        super().__init__(daemon=True)
        self.work, self.hold = work, hold
        self.loaded, self.release = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                self.work()
                self.loaded.set()
                if self.hold:
                    assert self.release.wait(30), "never released"
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            self.loaded.set()
            connection.close()


@pytest.fixture
def run_two() -> Iterator[Callable[[Callable[[], object], Callable[[], object]], tuple[Load, Load]]]:
    started: list[Load] = []

    def run(first: Callable[[], object], second: Callable[[], object]) -> tuple[Load, Load]:
        holder, racer = Load(first, hold=True), Load(second)
        started.extend([holder, racer])
        holder.start()
        assert holder.loaded.wait(30)
        assert holder.error is None, holder.error
        racer.start()
        try:
            wait_until_the_second_load_waits(racer)
        finally:
            holder.release.set()
        holder.join(30)
        racer.join(30)
        return holder, racer

    yield run
    for load in started:
        load.release.set()
        load.join(5)


def test_two_hours_loads_at_once_leave_one_files_schedule_not_a_mix(write_csv: WriteCsv, run_two) -> None:  # type: ignore[no-untyped-def]
    # Both stores exist and have a schedule: neither load waits on creating a store, only on the other's rows.
    for store in (Store.objects.create(id="1"), Store.objects.create(id="2")):
        BusinessHours.objects.create(store=store, day_of_week=2, start_time_local=clock(9), end_time_local=clock(17))
    first = write_csv("first.csv", HOURS + "1,0,09:00,12:00\n1,4,09:00,12:00\n2,0,08:00,09:00\n")
    second = write_csv("second.csv", HOURS + "2,1,10:00,11:00\n1,1,13:00,18:00\n")

    holder, racer = run_two(lambda: hours_ingest(path=first), lambda: hours_ingest(path=second))

    assert (holder.error, racer.error) == (None, None)
    assert schedule("1") == [(1, clock(13), clock(18))]
    assert schedule("2") == [(1, clock(10), clock(11))]


def test_a_timezone_load_racing_a_poll_load_that_creates_the_store_sets_the_zone(  # type: ignore[no-untyped-def]
    write_csv: WriteCsv, run_two
) -> None:
    polls = write_csv("polls.csv", "store_id,status,timestamp_utc\nnew,active,2023-01-22 12:00:00 UTC\n")
    zones = write_csv("zones.csv", "store_id,timezone_str\nnew,Asia/Tokyo\nother,UTC\n")

    holder, racer = run_two(lambda: polls_ingest(path=polls), lambda: timezones_ingest(path=zones))

    assert (holder.error, racer.error) == (None, None)
    assert dict(Store.objects.values_list("id", "timezone")) == {"new": "Asia/Tokyo", "other": "UTC"}
    assert Poll.objects.filter(store_id="new").count() == 1
