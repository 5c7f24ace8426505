"""After a prune deletes polls, PostgreSQL's polls table is vacuumed and analyzed: no dead rows, true counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from reports.retention import data_prune
from stores.models import Poll, PollStatus
from tests.factories import StoreFactory
from tests.reports.conftest import NOW

pytestmark = pytest.mark.usefixtures("isolated_reports")


def polls_over(days: int, stores: int = 4) -> None:
    for n in range(stores):
        store = StoreFactory(id=f"store-{n}")
        Poll.objects.bulk_create(
            Poll(store=store, timestamp_utc=NOW - timedelta(hours=hours), status=PollStatus.ACTIVE)
            for hours in range(24 * days)
        )


def table_state() -> tuple[int, int, float]:
    """(vacuums so far, dead rows, the planner's row count) of the polls table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT vacuum_count, n_dead_tup FROM pg_stat_user_tables WHERE relid = %s::regclass",
            [Poll._meta.db_table],
        )
        vacuums, dead = cursor.fetchone()
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Poll._meta.db_table])
        (estimate,) = cursor.fetchone()
    return vacuums, dead, estimate


@pytest.mark.django_db(transaction=True)
def test_a_prune_that_deleted_polls_vacuums_and_analyzes_the_polls_table() -> None:
    polls_over(days=10)
    before = table_state() if connection.vendor == "postgresql" else None

    result = data_prune(poll_days=3, report_days=30)

    assert result.polls_deleted == 4 * 24 * 7 - 4  # the newest poll is NOW; polls before NOW - 3 days go
    assert Poll.objects.count() == 4 * (24 * 3 + 1)
    if connection.vendor != "postgresql":
        assert (result.polls_table_upkeep, result.summary().count("polls table")) == ("", 0)
        return
    assert before is not None
    vacuums, dead, estimate = table_state()
    assert result.polls_table_upkeep == "vacuum"
    assert "; then the polls table: vacuum in " in result.summary()
    assert vacuums == before[0] + 1
    assert dead == 0
    assert estimate == Poll.objects.count()


@pytest.mark.django_db(transaction=True)
def test_a_prune_that_deleted_nothing_leaves_the_table_alone() -> None:
    polls_over(days=2)

    result = data_prune(poll_days=30, report_days=30)

    assert (result.polls_deleted, result.polls_table_upkeep) == (0, "")


@pytest.mark.django_db
def test_inside_a_transaction_the_prune_can_only_analyze_and_still_updates_the_counts() -> None:
    polls_over(days=10)

    with transaction.atomic():
        result = data_prune(poll_days=3, report_days=30)

    if connection.vendor != "postgresql":
        assert result.polls_table_upkeep == ""
        return
    assert result.polls_table_upkeep == "analyze"
    assert table_state()[2] == Poll.objects.count()
