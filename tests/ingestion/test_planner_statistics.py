"""A load that changes a tenth of a table or more refreshes PostgreSQL's planner statistics itself.

On a server whose autovacuum is off, or has not come round yet, a freshly
loaded polls table has no statistics and the report's range reads get a
bad plan (see ``ingestion.statistics``). SQLite's planner needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from ingestion.services import polls_ingest
from ingestion.statistics import refresh_planner_statistics
from stores.models import Poll
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db


def planner_row_estimate() -> float | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Poll._meta.db_table])
        (estimate,) = cursor.fetchone()
    return float(estimate)


def polls_csv(write_csv: Callable[[str, str], Path], name: str, count: int, hour: int) -> Path:
    rows = "".join(f"s{n % 7},active,2023-01-22 {hour:02d}:{n // 7 % 60:02d}:{n % 60:02d} UTC\n" for n in range(count))
    return write_csv(name, "store_id,status,timestamp_utc\n" + rows)


def test_a_large_load_is_analyzed_and_a_small_one_is_not(write_csv: Callable[[str, str], Path]) -> None:
    PollFactory(store__id="seed")  # not empty: the merge path, which builds no index (that would count rows too)
    polls_ingest(path=polls_csv(write_csv, "first.csv", 400, hour=10))
    after_first = planner_row_estimate()

    polls_ingest(path=polls_csv(write_csv, "hourly.csv", 30, hour=11))

    assert Poll.objects.count() == 431
    expected = (401.0, 401.0) if connection.vendor == "postgresql" else (None, None)
    assert (after_first, planner_row_estimate()) == expected


def test_refreshing_reports_whether_it_analyzed(write_csv: Callable[[str, str], Path]) -> None:
    polls_ingest(path=polls_csv(write_csv, "first.csv", 400, hour=10))

    analyzed = refresh_planner_statistics(Poll, changed=400), refresh_planner_statistics(Poll, changed=80)

    assert analyzed == ((True, False) if connection.vendor == "postgresql" else (False, False))
