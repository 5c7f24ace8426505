"""A polls file merged in several chunks behaves exactly like one merge.

On PostgreSQL the loader merges every ``_MERGE_EVERY`` staged rows while the
parser reads on; shrinking the chunks to a few rows puts every rule across
chunk boundaries. (On SQLite the constants change nothing, and the same
rules must hold.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

import ingestion.poll_loader
from ingestion.errors import BadInputFile
from ingestion.services import polls_ingest
from stores.models import Poll, PollStatus
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingestion.poll_loader, "_COPY_BATCH", 1)
    monkeypatch.setattr(ingestion.poll_loader, "_MERGE_EVERY", 2)


def statuses() -> dict[tuple[str, datetime], str]:
    return {(poll.store_id, poll.timestamp_utc): poll.status for poll in Poll.objects.all()}


def test_a_key_repeated_in_a_later_chunk_keeps_the_later_status(write_csv: Callable[[str, str], Path]) -> None:
    path = write_csv(
        "polls.csv",
        "store_id,status,timestamp_utc\n"
        "a,active,2023-01-22 10:00:00 UTC\n"
        "b,active,2023-01-22 10:00:00 UTC\n"
        "c,active,2023-01-22 10:00:00 UTC\n"
        "a,inactive,2023-01-22T10:00:00Z\n"
        "a,active,2023-01-22 11:00:00 UTC\n",
    )

    result = polls_ingest(path=path)

    assert result.read == 5
    assert statuses() == {
        ("a", datetime(2023, 1, 22, 10, tzinfo=UTC)): "inactive",
        ("b", datetime(2023, 1, 22, 10, tzinfo=UTC)): "active",
        ("c", datetime(2023, 1, 22, 10, tzinfo=UTC)): "active",
        ("a", datetime(2023, 1, 22, 11, tzinfo=UTC)): "active",
    }


def test_reloading_in_chunks_changes_nothing(write_csv: Callable[[str, str], Path]) -> None:
    rows = "".join(f"s{n},active,2023-01-22 10:{n:02d}:00 UTC\n" for n in range(7))
    path = write_csv("polls.csv", "store_id,status,timestamp_utc\n" + rows)
    polls_ingest(path=path)

    again = polls_ingest(path=path)

    assert (again.read, again.inserted, again.updated) == (7, 0, 0)
    assert Poll.objects.count() == 7


def test_a_file_that_breaks_after_chunks_were_merged_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    good = "".join(f"s{n},active,2023-01-22 10:{n:02d}:00 UTC\n" for n in range(9))
    path.write_bytes(b"store_id,status,timestamp_utc\n" + good.encode() + b"s9,active,\xff\xfe broken\n")

    with pytest.raises(BadInputFile, match="not a UTF-8 text file"):
        polls_ingest(path=path)

    assert Poll.objects.count() == 0


def poll_constraints() -> dict[str, tuple[tuple[str, ...], bool, bool]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Poll._meta.db_table)
    return {name: (tuple(info["columns"]), info["primary_key"], info["unique"]) for name, info in found.items()}


@pytest.mark.parametrize("stored_before", [False, True], ids=["into an empty table", "into a table with polls"])
def test_keys_repeated_across_chunks_are_stored_once_with_the_last_status(
    write_csv: Callable[[str, str], Path], stored_before: bool
) -> None:
    # Into an empty table PostgreSQL copies the whole file into the table and
    # builds the indexes at the end, so a repeated key only meets its twin there.
    if stored_before:
        PollFactory(store__id="other")
    constraints = poll_constraints()
    path = write_csv(
        "polls.csv",
        "store_id,status,timestamp_utc\n"
        "a,active,2023-01-22 10:00:00 UTC\n"
        "b,active,2023-01-22 10:00:00 UTC\n"
        "a,inactive,2023-01-22 10:00:00 UTC\n"
        "c,active,2023-01-22 10:00:00 UTC\n"
        "b,active,2023-01-22 10:00:00 UTC\n"
        "a,active,2023-01-22 10:00:00 UTC\n"
        "a,inactive,2023-01-22 10:00:00 UTC\n",
    )

    result = polls_ingest(path=path)

    assert (result.read, result.inserted) == (7, 3)
    assert Poll.objects.exclude(store_id="other").count() == 3
    assert Poll.objects.get(store_id="a").status == PollStatus.INACTIVE
    assert poll_constraints() == constraints
    with pytest.raises(IntegrityError), transaction.atomic():
        Poll.objects.create(store_id="a", timestamp_utc=datetime(2023, 1, 22, 10, tzinfo=UTC), status="active")


def test_a_failed_first_load_leaves_the_indexes_in_place(tmp_path: Path) -> None:
    constraints = poll_constraints()
    path = tmp_path / "polls.csv"
    good = "".join(f"s{n},active,2023-01-22 10:{n:02d}:00 UTC\n" for n in range(9))
    path.write_bytes(b"store_id,status,timestamp_utc\n" + good.encode() + b"s9,active,\xff\xfe broken\n")

    with pytest.raises(BadInputFile):
        polls_ingest(path=path)

    assert poll_constraints() == constraints
    assert {"poll_store_timestamp_unique"} <= constraints.keys()
