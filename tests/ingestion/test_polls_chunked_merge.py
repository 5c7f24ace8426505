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

import ingestion.poll_loader
from ingestion.errors import BadInputFile
from ingestion.services import polls_ingest
from stores.models import Poll

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
