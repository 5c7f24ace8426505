"""``manage.py ingest``: summary lines, rejection messages, the rejects file and exit codes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stores.models import BusinessHours, Poll, Store
from tests.factories import PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]

POLLS = "store_id,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n1,up,2023-01-22 13:00:00 UTC\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n1,0,09:00,17:00\n1,9,09:00,17:00\n"
ZONES = "store_id,timezone_str\n1,Asia/Tokyo\n2,Mars/Olympus\n"


def ingest(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def ingest_failing(*args: str) -> tuple[int | str | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("ingest", *args, stdout=out, stderr=err)
    return exited.value.code, out.getvalue(), err.getvalue()


def test_each_file_prints_one_summary_line_in_load_order(write_csv: WriteCsv) -> None:
    polls, hours, zones = write_csv("p.csv", POLLS), write_csv("h.csv", HOURS), write_csv("t.csv", ZONES)

    out, _ = ingest("--polls", str(polls), "--hours", str(hours), "--timezones", str(zones))

    lines = out.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"timezones: 2 read, 1 new, 0 changed, 1 rejected in \d+\.\d s", lines[0])
    assert re.fullmatch(r"hours: 2 read, 1 new, 0 changed, 0 removed, 1 rejected in \d+\.\d s", lines[1])
    assert re.fullmatch(r"polls: 2 read, 1 new, 0 changed, 1 rejected in \d+\.\d s", lines[2])
    assert Store.objects.get(id="1").timezone == "Asia/Tokyo"
    assert BusinessHours.objects.get().start_time_local == time(9)
    assert Poll.objects.get().status == "active"


def test_each_rejected_row_is_reported_on_stderr_as_file_line_reason(write_csv: WriteCsv) -> None:
    polls, hours, zones = write_csv("p.csv", POLLS), write_csv("h.csv", HOURS), write_csv("t.csv", ZONES)

    _, err = ingest("--polls", str(polls), "--hours", str(hours), "--timezones", str(zones))

    assert err.splitlines() == [
        f"{zones}:3: rejected: unknown timezone 'Mars/Olympus'",
        f"{hours}:3: rejected: day '9' is not a day of week 0-6 (0 = Monday)",
        f"{polls}:3: rejected: unknown status 'up' (expected active or inactive)",
    ]


def test_the_rejects_file_lists_every_rejected_row_with_file_line_reason_and_row(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    polls = write_csv("p.csv", "timestamp_utc,status,store_id\n2023-01-22 12:00:00 UTC,up,1\n\nnever,active,1\n")
    zones = write_csv("t.csv", ZONES)
    rejects = tmp_path / "rejects.csv"

    code, _, _ = ingest_failing("--polls", str(polls), "--timezones", str(zones), "--rejects", str(rejects))

    assert code == 1  # every row of the polls file was rejected
    with rejects.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["file", "line", "reason", "row"],
        [str(zones), "3", "unknown timezone 'Mars/Olympus'", "2,Mars/Olympus"],
        [str(polls), "2", "unknown status 'up' (expected active or inactive)", "2023-01-22 12:00:00 UTC,up,1"],
        [str(polls), "4", "unparsable timestamp 'never'", "never,active,1"],
    ]


def test_only_the_first_20_rejections_are_printed_and_the_rest_counted(write_csv: WriteCsv, tmp_path: Path) -> None:
    polls = write_csv("p.csv", "store_id,status,timestamp_utc\n" + "1,up,2023-01-22 12:00:00 UTC\n" * 25)

    code, _, err = ingest_failing("--polls", str(polls))
    _, _, err_with_file = ingest_failing("--polls", str(polls), "--rejects", str(tmp_path / "r.csv"))

    assert code == 1  # every row was rejected
    assert len(err.splitlines()) == 22
    assert err.splitlines()[-2] == f"error: {polls}: every row was rejected; is it the right file?"
    assert err.splitlines()[-1] == "... 5 more rejected rows not shown (use --rejects FILE for all)"
    assert err_with_file.splitlines()[-1] == f"... 5 more rejected rows not shown (all in {tmp_path / 'r.csv'})"
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 26


def test_loading_the_same_files_twice_through_the_command_stores_nothing_twice(write_csv: WriteCsv) -> None:
    polls, hours, zones = write_csv("p.csv", POLLS), write_csv("h.csv", HOURS), write_csv("t.csv", ZONES)
    args = ("--polls", str(polls), "--hours", str(hours), "--timezones", str(zones))
    ingest(*args)

    out, _ = ingest(*args)

    assert [line.split(",", 1)[1].split(" rejected")[0] for line in out.splitlines()] == [
        " 0 new, 0 changed, 1",
        " 0 new, 0 changed, 0 removed, 1",
        " 0 new, 0 changed, 1",
    ]
    assert (Store.objects.count(), BusinessHours.objects.count(), Poll.objects.count()) == (1, 1, 1)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50, "not a UTF-8 text file"),
        (b"store_id,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n\x00\x00\x00\n", "not a CSV file"),
        (b"store_id,status\n1,active\n", "missing column timestamp_utc"),
    ],
    ids=["empty", "binary", "nul", "missing-column"],
)
def test_a_bad_polls_file_exits_2_with_one_line_and_stores_nothing(tmp_path: Path, content: bytes, reason: str) -> None:
    PollFactory(store=StoreFactory(id="kept"), timestamp_utc=datetime(2023, 1, 22, tzinfo=UTC))
    path = tmp_path / "polls.csv"
    path.write_bytes(content)

    code, out, err = ingest_failing("--polls", str(path))

    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {path}: ")
    assert reason in err
    assert err.rstrip().endswith("(nothing from this file was stored)")
    assert list(Poll.objects.values_list("store_id", flat=True)) == ["kept"]


def test_invalid_utf8_far_down_a_polls_file_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    rows = "".join(
        f"{n % 7},active,2023-01-{18 + n // 10000:02}T{n // 60 % 24:02}:{n % 60:02}:00Z\n" for n in range(45_000)
    )
    path = tmp_path / "polls.csv"
    path.write_bytes(b"store_id,status,timestamp_utc\n" + rows.encode() + b"1,\xc3\x28ctive,2023-01-25 00:00:00 UTC\n")

    code, _, err = ingest_failing("--polls", str(path))

    assert code == 2
    assert "not a UTF-8 text file" in err
    assert Poll.objects.count() == 0
    assert Store.objects.count() == 0


def test_a_nonexistent_path_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"

    code, _, err = ingest_failing("--hours", str(missing))

    assert code == 2
    assert (
        err.strip() == f"error: {missing}: cannot open: No such file or directory (nothing from this file was stored)"
    )


def test_a_bad_file_does_not_stop_the_other_files_from_loading(write_csv: WriteCsv, tmp_path: Path) -> None:
    zones = write_csv("t.csv", ZONES)

    code, out, _ = ingest_failing("--timezones", str(zones), "--polls", str(tmp_path / "nope.csv"))

    assert code == 2
    assert out.startswith("timezones: 2 read, 1 new")
    assert Store.objects.get(id="1").timezone == "Asia/Tokyo"


def test_without_any_file_the_command_says_what_to_give() -> None:
    with pytest.raises(CommandError, match="give at least one of --owners, --polls, --hours, --timezones"):
        call_command("ingest")


def test_an_unwritable_rejects_file_is_a_command_error(write_csv: WriteCsv, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot write rejects file"):
        call_command("ingest", "--polls", str(write_csv("p.csv", POLLS)), "--rejects", str(tmp_path / "no" / "r.csv"))
    assert Poll.objects.count() == 0
