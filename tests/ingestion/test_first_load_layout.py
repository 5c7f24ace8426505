"""A first load on PostgreSQL leaves polls that a report reads from the index alone.

The loader copies a first load into the table in file order
(``ingestion.poll_loader``), which is only as fast to read as a sorted table
because the report's polls query never visits the table: the unique (store,
time) index carries status and id (migration ``stores/0007``), and
``COPY … FREEZE`` marks the pages all-visible without a ``VACUUM``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from ingestion.services import polls_ingest
from reports.selectors import store_polls_arrays

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's index and COPY FREEZE"),
]

NOW = datetime(2023, 1, 22, 12, tzinfo=UTC)


def polls_query_plan() -> str:
    arrays = store_polls_arrays(NOW, ["s0", "s9"], max_poll_id=10**9)
    sql, params = arrays.query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of rows would be read by a sequential scan; what is asked is whether the index alone can answer.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_report_reads_a_first_loads_polls_from_the_index_without_visiting_the_table(
    write_csv: Callable[[str, str], Path],
) -> None:
    lines = "".join(
        f"s{store},{'active' if hour % 3 else 'inactive'},2023-01-22 {hour:02d}:00:00 UTC\n"
        for hour in range(12)
        for store in range(10)
    )
    polls_ingest(path=write_csv("polls.csv", "store_id,status,timestamp_utc\n" + lines))

    plan = polls_query_plan()

    assert "Index Only Scan using poll_store_timestamp_unique" in plan, plan
    assert re.search(r"Heap Fetches: 0\b", plan), plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'stores_poll' AND relallvisible = relpages")
        assert cursor.fetchone() == (1,)
