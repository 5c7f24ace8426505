"""The fast road for canonical polls lines (:mod:`ingestion.poll_blocks`) stores what the row rules would.

The expression may refuse a line the row rules accept (that line is then
read row by row), never the other way round, and what it accepts must come
out as the same store, status and instant. The loads at the end go through
the whole first-load path: canonical blocks, then the rest row by row from
the first block that is not, with its true line numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ingestion.poll_blocks
from ingestion.csvfile import FROM_THE_START, POLLS, CsvRows, Rest
from ingestion.errors import Rejection
from ingestion.poll_blocks import CanonicalBlocks
from ingestion.rows import poll_from_fields
from ingestion.services import polls_ingest
from stores.models import Poll, Store
from stores.rules import RejectedRow

HEADER = "store_id,status,timestamp_utc\n"

LINES = [
    "8419537941919820732,active,2023-01-22 12:09:39.388884 UTC",
    "54515546588432327,inactive,2023-01-24 09:06:42.605777 UTC",
    "a.b_c:d-e,active,2023-01-22 12:09:39 UTC",
    "s,active,2023-01-22 12:09:39.4 UTC",
    "s,active,2023-01-22 12:09:39.000000 UTC",
    "s,active,2023-01-22 12:09:39.123456",
    "s,active,1900-01-01 00:00:00 UTC",
    "s,active,9998-12-31 23:59:59.999999 UTC",
    "s,active,2024-02-28 23:59:59 UTC",
    "s,active,2023-04-30 10:00:00 UTC",
    "x" * 64 + ",active,2023-01-22 10:00:00 UTC",
    # Lines the fast road leaves to the row rules (accepted or refused there):
    "x" * 65 + ",active,2023-01-22 10:00:00 UTC",
    "s,Active,2023-01-22 10:00:00 UTC",
    "s,active,2024-02-29 10:00:00 UTC",
    "s,active,2023-02-29 10:00:00 UTC",
    "s,active,2023-04-31 10:00:00 UTC",
    "s,active,1899-12-31 23:59:59 UTC",
    "s,active,9999-01-01 00:00:00 UTC",
    "s,active,2023-01-22 24:00:00 UTC",
    "s,active,2023-01-22 10:60:00 UTC",
    "s,active,2023-01-22 10:00:00.1234567 UTC",
    "s,active,2023-01-22T10:00:00Z",
    "s,active,2023-01-22 10:00:00+00:00",
    "s,active,2023-01-22 10:00:00 utc",
    " s,active,2023-01-22 10:00:00 UTC",
    "-s,active,2023-01-22 10:00:00 UTC",
    '"s",active,2023-01-22 10:00:00 UTC',
    "s,active,2023-01-22 10:00:00 UTC,extra",
    "s,active,２０２３-01-22 10:00:00 UTC",
]


def fast(tmp_path: Path, line: str) -> tuple[Rest | None, list[bytes]]:
    path = tmp_path / "one.csv"
    path.write_text(HEADER + line + "\n", encoding="utf-8")
    blocks = CanonicalBlocks(str(path))
    texts = [text for _, text in blocks]
    return blocks.rest, texts


def row_rules(line: str) -> tuple[str, datetime, str] | None:
    """The line through the CSV reader and the row rules: ``None`` when they refuse it."""
    fields = next(csv.reader(io.StringIO(line)))
    try:
        store_id, timestamp, active = poll_from_fields([fields[0], fields[2], fields[1]] if len(fields) == 3 else [])
    except (RejectedRow, ValueError):
        return None
    instant = datetime.fromisoformat(timestamp).replace(tzinfo=UTC)
    return store_id, instant, "active" if active else "inactive"


@pytest.mark.parametrize("line", LINES)
def test_the_fast_road_passes_a_line_on_as_it_is_only_if_the_row_rules_accept_it(tmp_path: Path, line: str) -> None:
    rest, texts = fast(tmp_path, line)

    if rest is None:
        assert texts == [f"{line}\n".encode()]
        assert row_rules(line) is not None
    else:
        assert rest == Rest(len(HEADER), 2)
        assert texts == []


@pytest.mark.django_db
def test_the_lines_the_fast_road_passes_on_are_stored_as_the_polls_the_row_rules_make(
    write_csv: Callable[[str, str], Path],
) -> None:
    # On PostgreSQL these lines reach COPY byte for byte (and on SQLite the row rules read them).
    canonical = LINES[: LINES.index("x" * 64 + ",active,2023-01-22 10:00:00 UTC") + 1]
    path = write_csv("polls.csv", HEADER + "".join(f"{line}\n" for line in canonical))

    result = polls_ingest(path=path)

    assert (result.read, result.rejected, result.inserted) == (len(canonical), 0, len(canonical))
    stored = {(poll.store_id, poll.timestamp_utc, poll.status) for poll in Poll.objects.all()}
    assert stored == {row_rules(line) for line in canonical}


def test_the_real_files_lines_all_take_the_fast_road(tmp_path: Path) -> None:
    canonical = LINES[: LINES.index("x" * 64 + ",active,2023-01-22 10:00:00 UTC") + 1]

    assert [fast(tmp_path, line)[0] for line in canonical] == [None] * len(canonical)
    assert all(fast(tmp_path, line)[0] is not None for line in LINES[len(canonical) :])


def test_another_header_leaves_the_whole_file_to_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    path.write_text("store_id,timestamp_utc,status\ns,2023-01-22 10:00:00 UTC,active\n", encoding="utf-8")
    blocks = CanonicalBlocks(str(path))

    assert list(blocks) == []
    assert blocks.rest == FROM_THE_START


def test_the_rows_read_on_from_where_the_blocks_stopped_with_their_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingestion.poll_blocks, "BLOCK_BYTES", 40)
    lines = [f"s{n},active,2023-01-22 10:{n:02d}:00 UTC" for n in range(6)]
    lines[4] = "s4,Active,2023-01-22 10:04:00 UTC"
    path = tmp_path / "polls.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")

    blocks = CanonicalBlocks(str(path))
    copied = sum(count for count, _ in blocks)
    assert blocks.rest is not None
    rest = [(row.line, row.fields[0]) for row in CsvRows(path, POLLS).rows_from(blocks.rest)]

    assert copied == blocks.rest.line - 2
    assert rest == [(line, f"s{line - 2}") for line in range(blocks.rest.line, 8)]


@pytest.mark.django_db
@pytest.mark.parametrize("block_bytes", [40, 1 << 20])
def test_a_first_load_with_a_bad_row_midway_stores_the_same_polls_and_reports_the_same_line(
    write_csv: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    monkeypatch.setattr(ingestion.poll_blocks, "BLOCK_BYTES", block_bytes)
    path = write_csv(
        "polls.csv",
        HEADER
        + "a,active,2023-01-22 10:00:00 UTC\n"
        + "b,active,2023-01-22 10:00:00 UTC\n"
        + "a,inactive,2023-01-22 11:00:00 UTC\n"
        + "c,maybe,2023-01-22 10:00:00 UTC\n"
        + "b,INACTIVE,2023-01-22 10:00:00 UTC\n"
        + "a,active,2023-01-22 11:00:00.000000 UTC\n"
        + "d,active,2024-02-29 10:00:00 UTC\n",
    )
    rejected: list[Rejection] = []

    result = polls_ingest(path=path, on_reject=rejected.append)

    assert (result.read, result.rejected, result.inserted) == (7, 1, 4)
    assert [(rejection.line, rejection.reason) for rejection in rejected] == [
        (5, "unknown status 'maybe' (expected active or inactive)")
    ]
    assert {(poll.store_id, poll.timestamp_utc, poll.status) for poll in Poll.objects.all()} == {
        ("a", datetime(2023, 1, 22, 10, tzinfo=UTC), "active"),
        ("b", datetime(2023, 1, 22, 10, tzinfo=UTC), "inactive"),
        ("a", datetime(2023, 1, 22, 11, tzinfo=UTC), "active"),
        ("d", datetime(2024, 2, 29, 10, tzinfo=UTC), "active"),
    }
    assert sorted(Store.objects.values_list("id", flat=True)) == ["a", "b", "d"]
