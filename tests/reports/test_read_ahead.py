"""``build_report`` reads chunk k + 1 while computing chunk k: the same rows, the same snapshot.

These run outside a test transaction (``transaction=True``), as the command
does, so on PostgreSQL the reader thread really reads on its own connection
in the report's exported snapshot; on SQLite the chunks are read in turn.
"""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from reports.read_ahead import inputs_read_ahead
from reports.services import consistent_read, report_write_csv
from stores.models import Poll
from tests.factories import PollFactory, StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)
STORES = [f"s{index}" for index in range(6)]


def rows_by_store(out: io.StringIO) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in list(csv.reader(io.StringIO(out.getvalue())))[1:]}


def committed_elsewhere(work: object) -> None:
    """Run ``work`` on another connection and commit it (the report's own connection is read-only)."""
    thread = threading.Thread(target=lambda: (work(), connection.close()))  # type: ignore[operator]
    thread.start()
    thread.join()


def test_chunks_read_ahead_see_the_report_snapshot_not_later_commits() -> None:
    for store_id in STORES:
        PollFactory(store=StoreFactory(id=store_id), timestamp_utc=NOW - timedelta(minutes=30), status="active")
    last = STORES[-1]

    def store_goes_down_after_the_first_chunk(done: int, total: int) -> None:
        if done == 1:
            committed_elsewhere(
                lambda: PollFactory(store_id=last, timestamp_utc=NOW - timedelta(minutes=5), status="inactive")
            )

    out = io.StringIO()
    report_write_csv(now=NOW, out=out, chunk_size=1, on_progress=store_goes_down_after_the_first_chunk)

    rows = rows_by_store(out)
    assert list(rows) == STORES
    # Up the whole last hour: the inactive poll was committed after the report's snapshot.
    assert rows[last][:1] == ["60.00"] and rows[last][3:4] == ["0.00"]
    again = io.StringIO()
    report_write_csv(now=NOW, out=again, chunk_size=1)
    assert rows_by_store(again)[last][3] != "0.00"  # a new report does see it


def test_the_reader_sees_the_snapshot_of_the_report_even_when_it_starts_after_a_commit() -> None:
    PollFactory(store=StoreFactory(id="s"), timestamp_utc=NOW - timedelta(minutes=30))

    def polls_seen(chunk: str) -> int:
        return Poll.objects.filter(store_id=chunk).count()

    with consistent_read(shared=True) as snapshot:
        before = polls_seen("s")
        committed_elsewhere(lambda: PollFactory(store_id="s", timestamp_utc=NOW - timedelta(minutes=5)))
        seen = list(inputs_read_ahead(polls_seen, ["s", "s"], snapshot))

    assert before == 1
    assert seen == [1, 1]
    assert polls_seen("s") == 2


def test_on_postgresql_the_next_chunk_is_read_on_a_second_connection() -> None:
    readers: set[int] = set()

    def read(chunk: int) -> int:
        readers.add(threading.get_ident())
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s", [chunk])
            (value,) = cursor.fetchone()
        return int(value)

    with consistent_read(shared=True) as snapshot:
        assert list(inputs_read_ahead(read, [1, 2, 3], snapshot)) == [1, 2, 3]

    if connection.vendor == "postgresql":
        assert snapshot is not None
        assert readers and threading.get_ident() not in readers
    else:
        assert snapshot is None
        assert readers == {threading.get_ident()}


def test_an_error_in_the_reader_is_raised_to_the_report() -> None:
    def read(chunk: int) -> int:
        if chunk == 2:
            raise LookupError("chunk 2 is unreadable")
        return chunk

    seen: list[int] = []
    with consistent_read(shared=True) as snapshot, pytest.raises(LookupError, match="chunk 2"):
        seen.extend(inputs_read_ahead(read, [1, 2, 3], snapshot))
    assert seen == [1]
