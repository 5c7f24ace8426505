"""``polls_ingest``: polls upserted by (store, instant), rejections by line, whole-file failures store nothing.

These run on whichever database the suite runs on; CI runs them on both
SQLite and PostgreSQL, so "stored identically on both" means each run reads
back exactly the instants below through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion.errors import BadInputFile, Rejection
from ingestion.services import polls_ingest
from stores.models import Poll, Store
from tests.factories import PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]
HEADER = "store_id,status,timestamp_utc\n"


def stored_polls() -> list[tuple[str, datetime, str]]:
    return list(Poll.objects.order_by("store_id", "timestamp_utc").values_list("store_id", "timestamp_utc", "status"))


def at(hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2023, 1, 22, hour, minute, second, micro, tzinfo=UTC)


def test_a_real_format_file_is_stored_with_exact_instants_and_statuses(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER + "8419537941919820732,active,2023-01-22 12:09:39.388884 UTC\n"
        "54515546588432327,inactive,2023-01-24 09:06:42.605777 UTC\n"
        "8419537941919820732,inactive,2023-01-22 13:09:39 UTC\n",
    )

    result = polls_ingest(path=path)

    assert (result.kind, result.read, result.inserted, result.updated, result.rejected) == ("polls", 3, 3, 0, 0)
    assert stored_polls() == [
        ("54515546588432327", datetime(2023, 1, 24, 9, 6, 42, 605777, tzinfo=UTC), "inactive"),
        ("8419537941919820732", at(12, 9, 39, 388884), "active"),
        ("8419537941919820732", at(13, 9, 39), "inactive"),
    ]


def test_timestamps_read_back_through_the_orm_are_aware_utc_with_microseconds(write_csv: WriteCsv) -> None:
    polls_ingest(path=write_csv("polls.csv", HEADER + "1,active,2023-01-22 12:09:39.000001 UTC\n"))

    stored = Poll.objects.get().timestamp_utc

    assert stored == at(12, 9, 39, 1)
    assert stored.utcoffset() is not None and stored.utcoffset().total_seconds() == 0
    assert Poll.objects.filter(timestamp_utc=at(12, 9, 39, 1)).count() == 1
    assert Poll.objects.filter(timestamp_utc__gte=at(12, 9, 39, 2)).count() == 0


def test_every_timestamp_form_stores_its_instant(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER + "1,active,2023-01-22 01:00:00.5 UTC\n"
        "2,active,2023-01-22 02:00:00 UTC\n"
        "3,active,2023-01-22T03:00:00Z\n"
        "4,active,2023-01-22T04:00:00.250000+00:00\n"
        "5,active,2023-01-22 05:00:00\n"
        "6,active,2023-01-22T08:00:00+02:00\n",
    )

    assert polls_ingest(path=path).rejected == 0
    assert [(store, ts) for store, ts, _ in stored_polls()] == [
        ("1", at(1, 0, 0, 500000)),
        ("2", at(2)),
        ("3", at(3)),
        ("4", at(4, 0, 0, 250000)),
        ("5", at(5)),
        ("6", at(6)),
    ]


def test_the_same_instant_written_different_ways_is_one_poll_with_the_last_status(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER + "1,active,2023-01-22 12:09:39.388884 UTC\n"
        "1,inactive,2023-01-22T12:09:39.388884Z\n"
        "1,active,2023-01-22T12:09:39.388884+00:00\n"
        "1,inactive,2023-01-22T14:09:39.388884+02:00\n",
    )

    result = polls_ingest(path=path)

    assert (result.read, result.inserted, result.updated) == (4, 1, 0)
    assert stored_polls() == [("1", at(12, 9, 39, 388884), "inactive")]


def test_a_whole_second_written_with_and_without_fraction_is_one_poll(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", HEADER + "1,active,2023-01-22 12:00:00 UTC\n1,inactive,2023-01-22T12:00:00.000000Z\n")

    polls_ingest(path=path)

    assert stored_polls() == [("1", at(12), "inactive")]


def test_status_is_read_in_any_letter_case_and_stored_lowercase(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER
        + "1,ACTIVE,2023-01-22 01:00:00 UTC\n1,Inactive,2023-01-22 02:00:00 UTC\n1, active ,2023-01-22 03:00:00 UTC\n",
    )

    polls_ingest(path=path)

    assert [status for _, _, status in stored_polls()] == ["active", "inactive", "active"]


def test_a_repeated_key_within_one_file_keeps_the_later_rows_status(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER + "1,active,2023-01-22 12:00:00 UTC\n"
        "2,active,2023-01-22 12:00:00 UTC\n"
        "1,inactive,2023-01-22 12:00:00 UTC\n"
        "2,inactive,2023-01-22 12:00:00 UTC\n"
        "2,active,2023-01-22 12:00:00 UTC\n",
    )

    result = polls_ingest(path=path)

    assert (result.read, result.inserted, result.updated, result.rejected) == (5, 2, 0, 0)
    assert stored_polls() == [("1", at(12), "inactive"), ("2", at(12), "active")]


def test_in_a_later_load_the_later_loads_status_wins(write_csv: WriteCsv) -> None:
    polls_ingest(
        path=write_csv("first.csv", HEADER + "1,active,2023-01-22 12:00:00 UTC\n1,active,2023-01-22 13:00:00 UTC\n")
    )

    result = polls_ingest(
        path=write_csv("second.csv", HEADER + "1,inactive,2023-01-22T12:00:00Z\n1,active,2023-01-22 14:00:00 UTC\n")
    )

    assert (result.read, result.inserted, result.updated) == (2, 1, 1)
    assert stored_polls() == [("1", at(12), "inactive"), ("1", at(13), "active"), ("1", at(14), "active")]


def test_loading_the_same_file_twice_stores_nothing_twice(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER
        + "1,active,2023-01-22 12:00:00 UTC\n1,inactive,2023-01-22 13:00:00 UTC\n2,active,2023-01-22 12:00:00 UTC\n",
    )
    first = polls_ingest(path=path)
    stored = stored_polls()

    again = polls_ingest(path=path)

    assert (first.inserted, first.updated) == (3, 0)
    assert (again.read, again.inserted, again.updated, again.rejected) == (3, 0, 0, 0)
    assert stored_polls() == stored
    assert Store.objects.count() == 2


def test_a_new_store_id_creates_a_store_without_a_timezone(write_csv: WriteCsv) -> None:
    StoreFactory(id="1", timezone="Asia/Tokyo")

    polls_ingest(
        path=write_csv("polls.csv", HEADER + "1,active,2023-01-22 12:00:00 UTC\n2,active,2023-01-22 12:00:00 UTC\n")
    )

    assert dict(Store.objects.values_list("id", "timezone")) == {"1": "Asia/Tokyo", "2": None}


def test_each_kind_of_bad_row_is_rejected_with_its_line_and_reason_and_the_rest_loads(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER
        + "1,active,2023-01-22 12:00:00 UTC\n"  # 2
        + "1,up,2023-01-22 13:00:00 UTC\n"  # 3
        + "1,active,yesterday\n"  # 4
        + "1,active\n"  # 5
        + ",active,2023-01-22 14:00:00 UTC\n"  # 6
        + "1,inactive,2023-01-22 15:00:00 UTC\n",  # 7
    )
    rejected: list[Rejection] = []

    result = polls_ingest(path=path, on_reject=rejected.append)

    assert [(r.file, r.line, r.reason) for r in rejected] == [
        (str(path), 3, "unknown status 'up' (expected active or inactive)"),
        (str(path), 4, "unparsable timestamp 'yesterday'"),
        (str(path), 5, "missing field: expected 3 columns, found 2"),
        (str(path), 6, "store_id is empty"),
    ]
    assert (result.read, result.inserted, result.rejected) == (6, 2, 4)
    assert stored_polls() == [("1", at(12), "active"), ("1", at(15), "inactive")]


def test_a_rejection_carries_the_row_as_the_file_has_it(write_csv: WriteCsv) -> None:
    rejected: list[Rejection] = []

    polls_ingest(
        path=write_csv("polls.csv", HEADER + "1,up,2023-01-22 13:00:00 UTC\n1,active\n"), on_reject=rejected.append
    )

    assert [r.raw for r in rejected] == ["1,up,2023-01-22 13:00:00 UTC", "1,active"]


def test_rejected_rows_lose_nothing_already_stored(write_csv: WriteCsv) -> None:
    PollFactory(store=StoreFactory(id="1"), timestamp_utc=at(9), status="inactive")
    PollFactory(store=StoreFactory(id="2"), timestamp_utc=at(9), status="active")

    polls_ingest(path=write_csv("polls.csv", HEADER + "1,up,2023-01-22 09:00:00 UTC\n2,active,garbage\n"))

    assert stored_polls() == [("1", at(9), "inactive"), ("2", at(9), "active")]


def test_invalid_utf8_far_down_a_large_file_stores_nothing_from_it(tmp_path: Path) -> None:
    PollFactory(store=StoreFactory(id="kept"), timestamp_utc=at(9), status="inactive")
    good = "".join(
        f"{store},active,2023-01-{18 + minute // 1440:02} {minute // 60 % 24:02}:{minute % 60:02}:00 UTC\n"
        for store in range(5)
        for minute in range(10_000)
    )
    path = tmp_path / "polls.csv"
    path.write_bytes(HEADER.encode() + good.encode() + b"9,active,2023-01-22 12:00:00 UTC\xff\n")

    with pytest.raises(BadInputFile, match="not a UTF-8 text file"):
        polls_ingest(path=path)

    assert stored_polls() == [("kept", at(9), "inactive")]
    assert list(Store.objects.values_list("id", flat=True)) == ["kept"]
    # The connection is still usable, and the file loads once fixed.
    path.write_bytes(HEADER.encode() + good.encode())
    assert polls_ingest(path=path).inserted == 50_000


def test_a_missing_column_found_before_any_row_stores_nothing(write_csv: WriteCsv) -> None:
    PollFactory(store=StoreFactory(id="kept"), timestamp_utc=at(9))

    with pytest.raises(BadInputFile, match="missing column timestamp_utc"):
        polls_ingest(path=write_csv("polls.csv", "store_id,status\n1,active\n"))

    assert Poll.objects.count() == 1
    assert Store.objects.count() == 1


def test_progress_reports_add_up_to_the_file_size(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", HEADER + "".join(f"1,active,2023-01-22 12:00:{s:02} UTC\n" for s in range(60)))
    seen: list[int] = []

    polls_ingest(path=path, on_progress=seen.append)

    assert sum(seen) == path.stat().st_size


def test_a_short_form_with_an_offset_is_stored_as_its_utc_instant_beside_the_other_rows(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        HEADER + "1,active,2023-01-22 12+05:00\n1,inactive,2023-01-22 12:09:39 UTC\n2,active,2023-01-22 12:30-02:00\n",
    )

    result = polls_ingest(path=path)

    assert (result.read, result.inserted, result.rejected) == (3, 3, 0)
    assert stored_polls() == [("1", at(7), "active"), ("1", at(12, 9, 39), "inactive"), ("2", at(14, 30), "active")]
