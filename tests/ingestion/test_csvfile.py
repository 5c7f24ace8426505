"""Reading an input file: columns by header name, BOM and blanks, editor line numbers, unreadable files.

Each rule is checked through the service that loads the file, since that is
where a user meets it; ``CsvRows`` itself is only used to pin line numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from ingestion.csvfile import HOURS, POLLS, CsvRows
from ingestion.errors import BadInputFile, Rejection
from ingestion.services import IngestResult, hours_ingest, polls_ingest, timezones_ingest
from stores.models import BusinessHours, Poll, Store
from stores.rules import RejectedRow
from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]
Ingest = Callable[..., IngestResult]

T1 = datetime(2023, 1, 22, 12, 9, 39, 388884, tzinfo=UTC)


def stored_polls() -> list[tuple[str, datetime, str]]:
    return list(Poll.objects.order_by("store_id", "timestamp_utc").values_list("store_id", "timestamp_utc", "status"))


def stored_hours() -> list[tuple[str, int, time, time]]:
    return list(
        BusinessHours.objects.order_by("store_id", "day_of_week", "start_time_local").values_list(
            "store_id", "day_of_week", "start_time_local", "end_time_local"
        )
    )


def rejections_of(ingest: Ingest, path: Path) -> list[tuple[int, str]]:
    found: list[Rejection] = []
    ingest(path=path, on_reject=found.append)
    return [(rejection.line, rejection.reason) for rejection in found]


# --- columns by header name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "store_id,status,timestamp_utc\n1,active,2023-01-22 12:09:39.388884 UTC\n",
        "timestamp_utc,store_id,status\n2023-01-22 12:09:39.388884 UTC,1,active\n",
        "status,timestamp_utc,store_id\nactive,2023-01-22 12:09:39.388884 UTC,1\n",
    ],
    ids=["real-order", "timestamp-first", "status-first"],
)
def test_polls_columns_are_matched_by_header_name_in_any_order(write_csv: WriteCsv, text: str) -> None:
    result = polls_ingest(path=write_csv("polls.csv", text))

    assert (result.read, result.inserted, result.rejected) == (1, 1, 0)
    assert stored_polls() == [("1", T1, "active")]


def test_columns_the_contract_does_not_name_are_ignored(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv", "id,store_id,note,status,timestamp_utc\n9,1,hello,active,2023-01-22 12:09:39.388884 UTC\n"
    )

    polls_ingest(path=path)

    assert stored_polls() == [("1", T1, "active")]


@pytest.mark.parametrize("day_header", ["day", "dayOfWeek", "day_of_week", "DAY_OF_WEEK", "dayofweek"])
def test_the_day_column_may_be_headed_day_or_dayofweek_or_day_of_week(write_csv: WriteCsv, day_header: str) -> None:
    path = write_csv("hours.csv", f"store_id,{day_header},start_time_local,end_time_local\n1,3,09:00:00,17:00:00\n")

    result = hours_ingest(path=path)

    assert (result.read, result.inserted, result.rejected) == (1, 1, 0)
    assert stored_hours() == [("1", 3, time(9), time(17))]


def test_hours_columns_are_matched_by_header_name_in_any_order(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", "end_time_local,start_time_local,dayOfWeek,store_id\n17:00:00,09:00:00,3,1\n")

    hours_ingest(path=path)

    assert stored_hours() == [("1", 3, time(9), time(17))]


def test_timezone_columns_are_matched_by_header_name_in_any_order(write_csv: WriteCsv) -> None:
    timezones_ingest(path=write_csv("tz.csv", "timezone_str,store_id\nAsia/Beirut,1\n"))

    assert Store.objects.get(id="1").timezone == "Asia/Beirut"


def test_blanks_around_headers_and_fields_are_ignored(write_csv: WriteCsv) -> None:
    polls = write_csv(
        "polls.csv", " store_id , status ,\ttimestamp_utc \n 1 , Active ,  2023-01-22 12:09:39.388884 UTC \n"
    )
    hours = write_csv("hours.csv", " store_id ,  day , start_time_local,end_time_local \n 1 , 3 , 9:00 , 17:00:00 \n")
    zones = write_csv("tz.csv", " store_id , timezone_str \n 1 , Asia/Beirut \n")

    assert polls_ingest(path=polls).rejected == 0
    assert hours_ingest(path=hours).rejected == 0
    assert timezones_ingest(path=zones).rejected == 0
    assert stored_polls() == [("1", T1, "active")]
    assert stored_hours() == [("1", 3, time(9), time(17))]
    assert Store.objects.get(id="1").timezone == "Asia/Beirut"


def test_a_utf8_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "tz.csv"
    path.write_bytes("\ufeffstore_id,timezone_str\r\n1,Asia/Beirut\r\n".encode())

    result = timezones_ingest(path=path)

    assert (result.read, result.inserted, result.rejected) == (1, 1, 0)
    assert Store.objects.get(id="1").timezone == "Asia/Beirut"


# --- line numbers as an editor shows them --------------------------------------------------------------------


def test_the_header_is_line_1_and_the_first_row_line_2(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", "store_id,status,timestamp_utc\n1,up,2023-01-22 12:09:39 UTC\n")

    assert rejections_of(polls_ingest, path) == [(2, "unknown status 'up' (expected active or inactive)")]


def test_blank_lines_and_a_quoted_field_spanning_lines_keep_editor_line_numbers(write_csv: WriteCsv) -> None:
    path = write_csv(
        "polls.csv",
        "store_id,status,timestamp_utc\n"  # 1
        "1,active,2023-01-22 12:00:00 UTC\n"  # 2
        "\n"  # 3
        "1,up,2023-01-22 13:00:00 UTC\n"  # 4
        '1,"act\n'  # 5
        'ive",2023-01-22 14:00:00 UTC\n'  # 6
        "   \n"  # 7
        "1,down,2023-01-22 15:00:00 UTC\n"  # 8
        "1,inactive,2023-01-22 16:00:00 UTC\n",  # 9
    )

    rejected = rejections_of(polls_ingest, path)

    assert rejected == [
        (4, "unknown status 'up' (expected active or inactive)"),
        (5, "unknown status 'act\\nive' (expected active or inactive)"),
        (8, "unknown status 'down' (expected active or inactive)"),
    ]
    assert [status for _, _, status in stored_polls()] == ["active", "inactive"]


def test_crlf_line_endings_count_one_line_per_row(tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    path.write_bytes(
        b"store_id,status,timestamp_utc\r\n1,active,2023-01-22 12:00:00 UTC\r\n\r\n1,up,2023-01-22 13:00:00 UTC\r\n"
    )

    assert [line for line, _ in rejections_of(polls_ingest, path)] == [4]


def test_csv_rows_reports_each_row_with_the_line_it_starts_on(write_csv: WriteCsv) -> None:
    path = write_csv(
        "hours.csv",
        'store_id,day,start_time_local,end_time_local\n\n1,0,"09:00\n",17:00\n2,1,10:00,11:00\n3,2\n',
    )

    rows = list(CsvRows(path, HOURS))

    assert [row.line for row in rows] == [3, 5, 6]
    assert list(rows[1].fields) == ["2", "1", "10:00", "11:00"]
    assert rows[1].missing is None


def test_a_short_row_keeps_the_fields_it_has_and_says_what_is_missing(write_csv: WriteCsv) -> None:
    path = write_csv("hours.csv", "store_id,day,start_time_local,end_time_local\n3,2\n")

    (row,) = CsvRows(path, HOURS)

    assert (row.line, row.fields, row.cells) == (2, ["3", "2", "", ""], ["3", "2"])
    with pytest.raises(RejectedRow, match="missing field: expected 4 columns, found 2"):
        row.required()


# --- files that cannot be read at all ------------------------------------------------------------------------


@pytest.fixture
def stored_before() -> None:
    """Something already in the database that a bad file must not disturb."""
    store = StoreFactory(id="1", timezone="Asia/Beirut")
    PollFactory(store=store, timestamp_utc=T1)
    BusinessHoursFactory(store=store, day_of_week=2)


def assert_nothing_changed() -> None:
    assert Store.objects.count() == 1
    assert Store.objects.get(id="1").timezone == "Asia/Beirut"
    assert stored_polls() == [("1", T1, "active")]
    assert stored_hours() == [("1", 2, time(9), time(17))]


ALL_INGESTS = pytest.mark.parametrize("ingest", [polls_ingest, hours_ingest, timezones_ingest])


@ALL_INGESTS
def test_an_empty_file_is_a_bad_file(tmp_path: Path, stored_before: None, ingest: Ingest) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    with pytest.raises(BadInputFile) as caught:
        ingest(path=path)

    assert str(caught.value) == f"{path}: the file is empty"
    assert_nothing_changed()


@ALL_INGESTS
def test_a_file_of_blank_lines_or_only_a_bom_is_empty(tmp_path: Path, ingest: Ingest) -> None:
    for content in (b"\n\n  \n", b"\xef\xbb\xbf"):
        path = tmp_path / "blank.csv"
        path.write_bytes(content)
        with pytest.raises(BadInputFile, match="the file is empty"):
            ingest(path=path)


@pytest.mark.parametrize(
    ("ingest", "header"),
    [
        (polls_ingest, "store_id,status,timestamp_utc\n"),
        (hours_ingest, "store_id,day,start_time_local,end_time_local\n"),
        (timezones_ingest, "store_id,timezone_str\n"),
    ],
)
def test_a_header_only_file_is_a_valid_empty_file(
    write_csv: WriteCsv, stored_before: None, ingest: Ingest, header: str
) -> None:
    result = ingest(path=write_csv("header.csv", header))

    assert (result.read, result.rejected, result.inserted, result.updated, result.removed) == (0, 0, 0, 0, 0)
    assert_nothing_changed()


@pytest.mark.parametrize(
    ("ingest", "header", "missing"),
    [
        (polls_ingest, "store_id,status,time\n1,active,2023-01-22 12:00:00 UTC\n", "timestamp_utc"),
        (polls_ingest, "store,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n", "store_id"),
        (hours_ingest, "store_id,weekday,start_time_local,end_time_local\n1,0,09:00,17:00\n", "day_of_week or day"),
        (hours_ingest, "store_id,day,start_time_local\n1,0,09:00\n", "end_time_local"),
        (timezones_ingest, "store_id,timezone\n1,Asia/Beirut\n", "timezone_str"),
    ],
)
def test_a_file_missing_a_required_column_is_a_bad_file_naming_the_column(
    write_csv: WriteCsv, stored_before: None, ingest: Ingest, header: str, missing: str
) -> None:
    with pytest.raises(BadInputFile) as caught:
        ingest(path=write_csv("wrong.csv", header))

    assert "missing column" in caught.value.reason
    assert missing in caught.value.reason
    assert "\n" not in str(caught.value)
    assert_nothing_changed()


def test_a_polls_file_given_as_hours_is_refused_as_the_wrong_kind(sample_dir: Path) -> None:
    with pytest.raises(BadInputFile) as caught:
        hours_ingest(path=sample_dir / "store_status.csv")

    assert caught.value.reason.startswith("not a hours file: missing column")
    assert BusinessHours.objects.count() == 0


@ALL_INGESTS
def test_binary_garbage_is_a_bad_file(tmp_path: Path, stored_before: None, ingest: Ingest) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)

    with pytest.raises(BadInputFile, match="not a UTF-8 text file"):
        ingest(path=path)
    assert_nothing_changed()


@ALL_INGESTS
def test_a_utf16_file_is_a_bad_file(tmp_path: Path, stored_before: None, ingest: Ingest) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("store_id,timezone_str\n1,Asia/Tokyo\n".encode("utf-16-le"))

    with pytest.raises(BadInputFile, match="not a CSV file"):
        ingest(path=path)
    assert_nothing_changed()


def test_nul_bytes_after_good_rows_make_the_whole_file_bad(tmp_path: Path, stored_before: None) -> None:
    path = tmp_path / "polls.csv"
    good = "".join(f"2,active,2023-01-22 {hour:02}:00:00 UTC\n" for hour in range(20))
    path.write_bytes(f"store_id,status,timestamp_utc\n{good}".encode() + b"\x00" * 4096 + b"\n")

    with pytest.raises(BadInputFile, match="not a CSV file") as caught:
        polls_ingest(path=path)

    assert "line 22" in caught.value.reason
    assert_nothing_changed()


def test_invalid_utf8_in_an_hours_file_is_a_bad_file(tmp_path: Path, stored_before: None) -> None:
    path = tmp_path / "hours.csv"
    path.write_bytes(
        b"store_id,day,start_time_local,end_time_local\n2,0,09:00,17:00\n" + b"3\xe9,0,09:00,17:00\n"
    )

    with pytest.raises(BadInputFile, match="not a UTF-8 text file"):
        hours_ingest(path=path)
    assert_nothing_changed()


@ALL_INGESTS
def test_a_nonexistent_path_is_a_bad_file(tmp_path: Path, ingest: Ingest) -> None:
    path = tmp_path / "missing.csv"

    with pytest.raises(BadInputFile) as caught:
        ingest(path=path)

    assert str(caught.value) == f"{path}: cannot open: No such file or directory"


def test_a_directory_is_a_bad_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputFile, match="cannot open"):
        polls_ingest(path=tmp_path)


def test_the_rows_of_a_polls_file_come_in_contract_column_order(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", "status,timestamp_utc,store_id\nactive,2023-01-22 12:00:00 UTC,1\n")

    assert [list(row.fields) for row in CsvRows(path, POLLS)] == [["1", "2023-01-22 12:00:00 UTC", "active"]]
