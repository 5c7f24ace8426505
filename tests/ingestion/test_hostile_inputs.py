"""Hostile and mistaken inputs to ``manage.py ingest``: each is refused cleanly and loses nothing.

A rejects path that is an input, a header naming a column twice, huge
fields and headers, a file whose every row is rejected, invalid UTF-8: each
gets a short, exact message and the right exit code.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from stores.models import BusinessHours, Poll, Store

pytestmark = pytest.mark.django_db

WriteCsv = Callable[[str, str], Path]
POLLS = "store_id,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n"


def ingest_exit(*args: str) -> tuple[int | str | None, str, str]:
    """Exit code (0 when the command returns), stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=err)
    except SystemExit as exited:
        return exited.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


# -- the rejects file ---------------------------------------------------------


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_a_rejects_path_that_is_an_input_file_is_refused_before_anything_is_written(
    write_csv: WriteCsv, tmp_path: Path, spelling: str
) -> None:
    polls = write_csv("polls.csv", POLLS)
    (tmp_path / "sub").mkdir()
    rejects = {
        "same": polls,
        "dotted": tmp_path / "sub" / ".." / "polls.csv",
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
    }[spelling]
    if spelling == "symlink":
        rejects.symlink_to(polls)
    if spelling == "hardlink":
        rejects.hardlink_to(polls)

    with pytest.raises(CommandError, match=r"the rejects file .* is the input file .*; nothing was loaded"):
        call_command(
            "ingest",
            "--timezones",
            str(write_csv("t.csv", "store_id,timezone_str\n1,UTC\n")),
            "--polls",
            str(polls),
            "--rejects",
            str(rejects),
        )

    assert polls.read_text() == POLLS
    assert not Store.objects.exists()


# -- headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "text", "reason"),
    [
        (
            "--polls",
            "store_id,status,timestamp_utc,store_id\n1,active,2023-01-22 12:00:00 UTC,2\n",
            "ambiguous header: store_id is named 2 times: 'store_id' (column 1) and 'store_id' (column 4)",
        ),
        (
            "--polls",
            "store_id,status,timestamp_utc,Status \n1,active,2023-01-22 12:00:00 UTC,inactive\n",
            "ambiguous header: status is named 2 times: 'status' (column 2) and 'Status' (column 4)",
        ),
        (
            "--hours",
            "store_id,day,day_of_week,start_time_local,end_time_local\n1,0,1,09:00,17:00\n",
            "ambiguous header: day_of_week is named 2 times: 'day' (column 2) and 'day_of_week' (column 3)",
        ),
    ],
    ids=["polls-store-id-twice", "polls-status-twice-in-other-case", "hours-day-and-day-of-week"],
)
def test_a_header_naming_a_required_column_twice_is_a_bad_file(
    write_csv: WriteCsv, option: str, text: str, reason: str
) -> None:
    path = write_csv("input.csv", text)

    code, out, err = ingest_exit(option, str(path))

    assert code == 2
    assert out == ""
    assert err == f"error: {path}: {reason} (nothing from this file was stored)\n"
    assert not Store.objects.exists() and not Poll.objects.exists() and not BusinessHours.objects.exists()


def test_an_extra_column_named_twice_is_not_a_problem(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", "note,store_id,status,timestamp_utc,note\nx,1,active,2023-01-22 12:00:00 UTC,y\n")

    code, _, _ = ingest_exit("--polls", str(path))

    assert code == 0
    assert Poll.objects.count() == 1


def test_a_million_column_header_is_refused_in_one_short_line_without_a_stray_copy_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "polls.csv"
    path.write_text("store_id,status," + ",".join(["x"] * 1_000_000) + "\n1,active\n")

    with caplog.at_level(logging.WARNING):
        code, out, err = ingest_exit("--polls", str(path))

    assert [record.getMessage()[:80] for record in caplog.records if record.name.startswith("psycopg")] == []
    assert code == 2
    assert out == ""
    assert err == (
        f"error: {path}: the header line is longer than 8192 characters (nothing from this file was stored)\n"
    )


def test_a_bad_file_found_after_the_first_rows_closes_the_copy_cleanly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "polls.csv"
    path.write_bytes(POLLS.encode() * 1 + b"2,active,2023-01-22 12:00:00 UTC\n" * 30_000 + b"3,\xff\n")

    with caplog.at_level(logging.WARNING):
        code, _, err = ingest_exit("--polls", str(path))

    assert code == 2
    assert (
        err == f"error: {path}: not a UTF-8 text file (line 30003 holds bytes that are not UTF-8) "
        "(nothing from this file was stored)\n"
    )
    assert [record.getMessage() for record in caplog.records if record.name.startswith("psycopg")] == []
    assert not Poll.objects.exists()


# -- echoed values ------------------------------------------------------------


def test_huge_fields_are_echoed_cut_short_on_stderr_and_in_the_rejects_file(tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    huge = "9" * 1_000_000
    path.write_text(
        "store_id,status,timestamp_utc\n"
        + f"1,{huge},2023-01-22 12:00:00 UTC\n" * 25
        + "1,active,2023-01-22 13:00 UTC\n"
    )
    rejects = tmp_path / "rejects.csv"

    code, _, err = ingest_exit("--polls", str(path), "--rejects", str(rejects))

    assert code == 0
    first = err.splitlines()[0]
    assert first == (
        f"{path}:2: rejected: unknown status '{'9' * 100}…[999900 more characters]' (expected active or inactive)"
    )
    assert len(err) < 25 * 300
    assert rejects.stat().st_size < 25 * 500
    assert Poll.objects.count() == 1


# -- exit codes ---------------------------------------------------------------


def test_a_file_whose_every_row_is_rejected_exits_1_after_its_summary(write_csv: WriteCsv) -> None:
    path = write_csv("wrong.csv", "store_id,status,timestamp_utc\n1,up,2023-01-22 12:00:00 UTC\n2,down,never\n")

    code, out, err = ingest_exit("--polls", str(path))

    assert code == 1
    assert out.startswith("polls: 2 read, 0 new, 0 changed, 2 rejected in ")
    assert err.splitlines()[-1] == f"error: {path}: every row was rejected; is it the right file?"


def test_a_file_with_one_accepted_row_exits_0(write_csv: WriteCsv) -> None:
    path = write_csv("polls.csv", POLLS + "2,down,never\n")

    code, _, _ = ingest_exit("--polls", str(path))

    assert code == 0


def test_an_unreadable_file_still_exits_2_beside_a_fully_rejected_one(write_csv: WriteCsv, tmp_path: Path) -> None:
    zones = write_csv("t.csv", "store_id,timezone_str\n1,Mars/Olympus\n")

    code, _, _ = ingest_exit("--timezones", str(zones), "--polls", str(tmp_path / "nope.csv"))

    assert code == 2


# -- invalid UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"store_id,status,timestamp_utc\n1,\xc3\x28ctive,2023-01-22 12:00:00 UTC\n", 2),
        (b"store_id,status,timestamp_utc\n" + b"1,active,2023-01-22 12:00:00 UTC\n" * 5000 + b"\n\n1,\xe2\x82", 5004),
        (b"store_\xffid,status,timestamp_utc\n", 1),
    ],
    ids=["second-line", "far-down-at-the-end", "header"],
)
def test_invalid_utf8_is_reported_by_its_line(tmp_path: Path, content: bytes, line: int) -> None:
    path = tmp_path / "polls.csv"
    path.write_bytes(content)

    code, _, err = ingest_exit("--polls", str(path))

    assert code == 2
    assert f"not a UTF-8 text file (line {line} holds bytes that are not UTF-8)" in err
