"""``timezones_ingest``: a row replaces its store's zone; a rejected row changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.errors import Rejection
from ingestion.services import timezones_ingest
from stores.models import Store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]
HEADER = "store_id,timezone_str\n"


def zones() -> dict[str, str | None]:
    return dict(Store.objects.values_list("id", "timezone"))


def test_a_real_format_file_sets_each_stores_zone(write_csv: WriteCsv) -> None:
    path = write_csv("tz.csv", HEADER + "8139926242460185114,Asia/Beirut\n5415949628544298339,America/Boise\n")

    result = timezones_ingest(path=path)

    assert (result.kind, result.read, result.inserted, result.updated, result.rejected) == ("timezones", 2, 2, 0, 0)
    assert zones() == {"8139926242460185114": "Asia/Beirut", "5415949628544298339": "America/Boise"}


def test_a_timezone_row_replaces_that_stores_zone_and_leaves_others_alone(write_csv: WriteCsv) -> None:
    StoreFactory(id="1", timezone="America/Chicago")
    StoreFactory(id="2", timezone="Asia/Tokyo")
    StoreFactory(id="3", timezone=None)

    result = timezones_ingest(path=write_csv("tz.csv", HEADER + "1,Europe/Paris\n3,Asia/Kolkata\n"))

    assert (result.inserted, result.updated) == (0, 2)
    assert zones() == {"1": "Europe/Paris", "2": "Asia/Tokyo", "3": "Asia/Kolkata"}


def test_a_rejected_row_leaves_the_stores_zone_as_it_was(write_csv: WriteCsv) -> None:
    StoreFactory(id="1", timezone="Asia/Tokyo")
    StoreFactory(id="2", timezone=None)
    path = write_csv("tz.csv", HEADER + "1,Mars/Olympus\n2,\n3,Europe/Nowhere\n4,Europe/Paris\n")
    rejected: list[Rejection] = []

    result = timezones_ingest(path=path, on_reject=rejected.append)

    assert [(r.file, r.line, r.reason) for r in rejected] == [
        (str(path), 2, "unknown timezone 'Mars/Olympus'"),
        (str(path), 3, "unknown timezone ''"),
        (str(path), 4, "unknown timezone 'Europe/Nowhere'"),
    ]
    assert (result.read, result.inserted, result.updated, result.rejected) == (4, 1, 0, 3)
    assert zones() == {"1": "Asia/Tokyo", "2": None, "4": "Europe/Paris"}


def test_missing_fields_and_empty_store_ids_are_rejected_by_line(write_csv: WriteCsv) -> None:
    path = write_csv("tz.csv", HEADER + "1\n,Asia/Tokyo\n2,Asia/Tokyo\n")
    rejected: list[Rejection] = []

    timezones_ingest(path=path, on_reject=rejected.append)

    assert [(r.line, r.reason) for r in rejected] == [
        (2, "missing field: expected 2 columns, found 1"),
        (3, "store_id is empty"),
    ]
    assert zones() == {"2": "Asia/Tokyo"}


def test_a_later_row_for_the_same_store_wins(write_csv: WriteCsv) -> None:
    result = timezones_ingest(path=write_csv("tz.csv", HEADER + "1,Asia/Tokyo\n1,Europe/Paris\n1,Mars/Olympus\n"))

    assert (result.read, result.inserted, result.rejected) == (3, 1, 1)
    assert zones() == {"1": "Europe/Paris"}


def test_loading_the_same_file_twice_stores_nothing_twice(write_csv: WriteCsv) -> None:
    path = write_csv("tz.csv", HEADER + "1,Asia/Tokyo\n2,Europe/Paris\n")
    timezones_ingest(path=path)

    again = timezones_ingest(path=path)

    assert (again.read, again.inserted, again.updated, again.rejected) == (2, 0, 0, 0)
    assert zones() == {"1": "Asia/Tokyo", "2": "Europe/Paris"}
