"""``hours_ingest``: each named store's whole schedule replaced, others untouched, bad rows counted as absent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest

from ingestion.errors import Rejection
from ingestion.services import hours_ingest
from stores.models import BusinessHours, Store
from tests.factories import BusinessHoursFactory, StoreFactory

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]
HEADER = "store_id,day,start_time_local,end_time_local\n"


def schedule(store_id: str) -> list[tuple[int, time, time]]:
    return list(
        BusinessHours.objects.filter(store_id=store_id)
        .order_by("day_of_week", "start_time_local")
        .values_list("day_of_week", "start_time_local", "end_time_local")
    )


def test_a_real_format_file_stores_every_row(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", HEADER + "1,0,09:00:00,17:00:00\n1,0,18:00:00,23:59:59\n2,6,22:00:00,02:00:00\n")

    result = hours_ingest(path=path)

    assert (result.kind, result.read, result.inserted, result.removed, result.rejected) == ("hours", 3, 3, 0, 0)
    assert schedule("1") == [(0, time(9), time(17)), (0, time(18), time(23, 59, 59))]
    assert schedule("2") == [(6, time(22), time(2))]


def test_local_times_in_every_accepted_form_are_stored(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", HEADER + "1,0,9:05:07,17:30\n1,1,00:00,23:59:59\n")

    hours_ingest(path=path)

    assert schedule("1") == [(0, time(9, 5, 7), time(17, 30)), (1, time(0), time(23, 59, 59))]


def test_an_end_of_23_59_59_is_stored_literally(write_csv: WriteCsv) -> None:
    hours_ingest(path=write_csv("hours.csv", HEADER + "1,4,00:00:00,23:59:59\n"))

    assert BusinessHours.objects.get().end_time_local == time(23, 59, 59)


def test_each_kind_of_bad_row_is_rejected_with_its_line_and_reason_and_the_rest_loads(write_csv: WriteCsv) -> None:
    path = write_csv(
        "hours.csv",
        HEADER
        + "1,0,09:00,17:00\n"  # 2
        + "1,7,09:00,17:00\n"  # 3
        + "1,-1,09:00,17:00\n"  # 4
        + "1,1,9am,17:00\n"  # 5
        + "1,2,09:00,24:00:00\n"  # 6
        + "1,3,09:00\n"  # 7
        + ",4,09:00,17:00\n"  # 8
        + "1,5,10:00,11:00\n",  # 9
    )
    rejected: list[Rejection] = []

    result = hours_ingest(path=path, on_reject=rejected.append)

    assert [(r.file, r.line, r.reason) for r in rejected] == [
        (str(path), 3, "day '7' is not a day of week 0-6 (0 = Monday)"),
        (str(path), 4, "day '-1' is not a day of week 0-6 (0 = Monday)"),
        (str(path), 5, "unparsable start_time_local '9am' (expected HH:MM:SS)"),
        (str(path), 6, "end_time_local '24:00:00' is not a time of day"),
        (str(path), 7, "missing field: expected 4 columns, found 3"),
        (str(path), 8, "store_id is empty"),
    ]
    assert (result.read, result.inserted, result.rejected) == (8, 2, 6)
    assert schedule("1") == [(0, time(9), time(17)), (5, time(10), time(11))]


def test_loading_replaces_the_whole_schedule_of_each_named_store_and_leaves_others_alone(write_csv: WriteCsv) -> None:
    named, other = StoreFactory(id="1"), StoreFactory(id="2")
    for day in range(3):
        BusinessHoursFactory(store=named, day_of_week=day)
        BusinessHoursFactory(store=other, day_of_week=day)

    result = hours_ingest(path=write_csv("hours.csv", HEADER + "1,4,10:00,11:00\n"))

    assert (result.inserted, result.removed) == (1, 3)
    assert schedule("1") == [(4, time(10), time(11))]
    assert schedule("2") == [(day, time(9), time(17)) for day in range(3)]


def test_a_store_whose_every_row_is_rejected_and_had_no_schedule_stays_24x7(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", HEADER + "1,8,09:00,17:00\n1,0,09:00,24:00:00\n2,0,09:00,17:00\n")

    result = hours_ingest(path=path)

    assert not Store.objects.filter(id="1").exists()
    assert schedule("1") == []
    assert schedule("2") == [(0, time(9), time(17))]
    assert result.kept == 1


def test_a_store_whose_every_row_is_rejected_keeps_its_earlier_schedule(write_csv: WriteCsv) -> None:
    # SEMANTICS v2: a rejected row counts as absent, so the file does not touch the store's schedule.
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    result = hours_ingest(path=write_csv("hours.csv", HEADER + "1,9,09:00,17:00\n1,3,25:00,17:00\n"))

    assert schedule("1") == [(2, time(9), time(17))]
    assert (result.inserted, result.removed, result.rejected, result.kept) == (0, 0, 2, 1)
    assert result.summary().endswith("; 1 stores kept their schedule (every row for them was rejected)")


def test_a_store_with_one_accepted_row_gets_only_its_accepted_rows(write_csv: WriteCsv) -> None:
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    result = hours_ingest(path=write_csv("hours.csv", HEADER + "1,9,09:00,17:00\n1,4,10:00,11:00\n"))

    assert schedule("1") == [(4, time(10), time(11))]
    assert (result.inserted, result.removed, result.kept) == (1, 1, 0)
    assert "kept" not in result.summary()


def test_a_row_with_a_missing_field_leaves_its_stores_schedule_alone(write_csv: WriteCsv) -> None:
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    result = hours_ingest(path=write_csv("hours.csv", HEADER + "1,3,09:00\n"))

    assert schedule("1") == [(2, time(9), time(17))]
    assert result.kept == 1


def test_a_row_without_a_readable_store_id_names_no_store(write_csv: WriteCsv) -> None:
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    hours_ingest(path=write_csv("hours.csv", HEADER + ",3,09:00,17:00\n2,3,09:00,17:00\n"))

    assert schedule("1") == [(2, time(9), time(17))]
    assert Store.objects.count() == 2


def test_loading_the_same_file_twice_stores_nothing_twice(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", HEADER + "1,0,09:00,17:00\n1,0,18:00,20:00\n2,3,00:00,23:59:59\n")
    first = hours_ingest(path=path)
    ids = sorted(BusinessHours.objects.values_list("id", flat=True))

    again = hours_ingest(path=path)

    assert (first.inserted, first.removed) == (3, 0)
    assert (again.read, again.inserted, again.updated, again.removed, again.rejected) == (3, 0, 0, 0, 0)
    assert sorted(BusinessHours.objects.values_list("id", flat=True)) == ids


def test_a_changed_schedule_reports_only_rows_added_and_removed(write_csv: WriteCsv) -> None:
    hours_ingest(path=write_csv("first.csv", HEADER + "1,0,09:00,17:00\n1,1,09:00,17:00\n"))

    result = hours_ingest(path=write_csv("second.csv", HEADER + "1,0,09:00,17:00\n1,2,09:00,17:00\n"))

    assert (result.inserted, result.removed) == (1, 1)
    assert schedule("1") == [(0, time(9), time(17)), (2, time(9), time(17))]


def test_identical_rows_within_one_file_are_stored_once(write_csv: WriteCsv) -> None:
    result = hours_ingest(path=write_csv("hours.csv", HEADER + "1,0,09:00,17:00\n1,0,9:00:00,17:00:00\n"))

    assert (result.read, result.inserted) == (2, 1)
    assert schedule("1") == [(0, time(9), time(17))]


def test_rows_duplicated_in_the_database_collapse_to_the_files_rows(write_csv: WriteCsv) -> None:
    store = StoreFactory(id="1")
    BusinessHoursFactory(store=store, day_of_week=0)
    BusinessHoursFactory(store=store, day_of_week=0)

    hours_ingest(path=write_csv("hours.csv", HEADER + "1,0,09:00,17:00\n"))

    assert schedule("1") == [(0, time(9), time(17))]


def test_new_stores_are_created_without_a_timezone_and_existing_zones_kept(write_csv: WriteCsv) -> None:
    StoreFactory(id="1", timezone="Asia/Tokyo")

    hours_ingest(path=write_csv("hours.csv", HEADER + "1,0,09:00,17:00\n2,0,09:00,17:00\n"))

    assert dict(Store.objects.values_list("id", "timezone")) == {"1": "Asia/Tokyo", "2": None}


def test_a_rejected_row_carries_the_row_as_the_file_has_it(write_csv: WriteCsv) -> None:
    rejected: list[Rejection] = []

    hours_ingest(
        path=write_csv("hours.csv", "end_time_local,start_time_local,day,store_id\n17:00,09:00,9,1\n"),
        on_reject=rejected.append,
    )

    assert [r.raw for r in rejected] == ["17:00,09:00,9,1"]
