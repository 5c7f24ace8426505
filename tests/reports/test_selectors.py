"""How the report reads polls: exact integer instants, with no per-row work in Django."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.engine.units import to_instant
from reports.period_selectors import period_store_polls
from reports.selectors import (
    FLOAT_EXACT_MICROSECONDS,
    EpochMicroseconds,
    latest_poll_time,
    polls_in_week,
    reported_store_ids,
    store_polls,
    store_polls_arrays,
)
from reports.selectors import WEEK_WINDOW as WEEK
from stores.models import Poll
from tests.factories import PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2023, 1, 25, 12, 0, 0, 123457, tzinfo=UTC)


def test_instants_are_exact_integer_microseconds() -> None:
    store = StoreFactory(id="s")
    PollFactory(store=store, timestamp_utc=NOW)
    PollFactory(store=store, timestamp_utc=datetime(2023, 1, 20, 0, 0, 0, 1, tzinfo=UTC), status="inactive")

    polls = store_polls(NOW, ["s"])

    assert polls == {"s": [(to_instant(datetime(2023, 1, 20, 0, 0, 0, 1, tzinfo=UTC)), False), (to_instant(NOW), True)]}
    assert all(type(instant) is int and type(active) is bool for instant, active in polls["s"])


def test_rows_reach_the_engine_without_a_per_row_converter() -> None:
    # A converter makes Django copy every row into a list to apply it: for the
    # week's 1.8M polls that was a third of a shard's time.
    query = polls_in_week(NOW).values_list("store_id", EpochMicroseconds("timestamp_utc"), "status").query
    compiler = query.get_compiler(using="default")
    compiler.setup_query()

    assert compiler.get_converters([column for column, _, _ in compiler.select]) == {}


MICROSECOND = timedelta(microseconds=1)


def test_the_week_starts_exactly_168_hours_before_now_and_includes_that_instant() -> None:
    store = StoreFactory(id="s")
    PollFactory(store=store, timestamp_utc=NOW - WEEK - MICROSECOND, status="inactive")
    PollFactory(store=store, timestamp_utc=NOW - WEEK, status="active")

    assert store_polls(NOW, ["s"]) == {"s": [(to_instant(NOW - WEEK), True)]}
    assert list(polls_in_week(NOW).values_list("timestamp_utc", flat=True)) == [NOW - WEEK]


def test_a_store_whose_only_poll_is_at_the_start_of_the_week_gets_a_row() -> None:
    PollFactory(store=StoreFactory(id="at-start"), timestamp_utc=NOW - WEEK)
    PollFactory(store=StoreFactory(id="just-before"), timestamp_utc=NOW - WEEK - MICROSECOND)

    assert reported_store_ids(NOW) == ["at-start"]


def test_the_snapshot_bound_includes_the_last_poll_of_the_snapshot_and_nothing_after() -> None:
    store = StoreFactory(id="s")
    PollFactory(store=store, timestamp_utc=NOW - timedelta(hours=2), status="active")
    last = PollFactory(store=store, timestamp_utc=NOW - timedelta(hours=1), status="inactive")
    PollFactory(store=store, timestamp_utc=NOW, status="active")  # stored after the snapshot

    polls = store_polls(NOW, ["s"], max_poll_id=last.id)

    assert polls == {"s": [(to_instant(NOW - timedelta(hours=2)), True), (to_instant(NOW - timedelta(hours=1)), False)]}


def test_the_row_reader_orders_by_store_then_time() -> None:
    # The period report reads a row per poll and relies on this; SQLite would hide a sort on the store alone.
    with CaptureQueriesContext(connection) as queries:
        period_store_polls(NOW - WEEK, NOW, ["a", "z"])

    # Django may name the store column by its position in the SELECT (1).
    order = re.search(r"ORDER BY (.*)$", queries.captured_queries[-1]["sql"])
    assert order is not None
    assert re.fullmatch(r'(1|"stores_poll"\."store_id") ASC, "stores_poll"\."timestamp_utc" ASC', order.group(1))


POLLS_PER_STORE = 300


def test_polls_come_in_time_order_when_the_database_reads_them_in_another_order() -> None:
    # Rows stored newest first and interleaved between stores; on PostgreSQL the
    # plan may not follow the (store, time) index, so the sort must ask for time.
    stores = [StoreFactory(id="a"), StoreFactory(id="b")]
    for step in reversed(range(POLLS_PER_STORE)):
        for store in stores:
            PollFactory(store=store, timestamp_utc=NOW - timedelta(minutes=step), status="active")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for scan in ("indexscan", "indexonlyscan", "bitmapscan"):
                cursor.execute(f"SET LOCAL enable_{scan} = off")

    polls = store_polls(NOW, ["a", "b"])

    for store_id in ("a", "b"):
        instants = [instant for instant, _ in polls[store_id]]
        assert len(instants) == POLLS_PER_STORE
        assert instants == sorted(instants)


def test_the_latest_poll_time_is_kept_until_a_poll_is_added_and_then_found_again() -> None:
    PollFactory(store=StoreFactory(id="a"), timestamp_utc=NOW)
    PollFactory(store=StoreFactory(id="b"), timestamp_utc=NOW - timedelta(hours=1))
    assert latest_poll_time() == NOW

    PollFactory(store=StoreFactory(id="c"), timestamp_utc=NOW + timedelta(seconds=1))
    assert latest_poll_time() == NOW + timedelta(seconds=1)

    PollFactory(store_id="a", timestamp_utc=NOW - timedelta(days=1))  # an older poll: the latest stays
    assert latest_poll_time() == NOW + timedelta(seconds=1)


def test_a_kept_latest_poll_time_is_dropped_when_that_poll_is_gone() -> None:
    PollFactory(store=StoreFactory(id="a"), timestamp_utc=NOW)
    PollFactory(store=StoreFactory(id="b"), timestamp_utc=NOW - timedelta(hours=1))
    assert latest_poll_time() == NOW

    Poll.objects.filter(store_id="a").delete()

    assert latest_poll_time() == NOW - timedelta(hours=1)


def test_an_organizations_scattered_stores_read_the_same_polls_as_a_range_would() -> None:
    for store_id in ("a", "b", "c"):
        PollFactory(store=StoreFactory(id=store_id), timestamp_utc=NOW)

    assert store_polls(NOW, ["a", "c"], contiguous=False) == store_polls(NOW, ["a", "c"])
    assert '"store_id" IN (' in str(store_polls_arrays(NOW, ["a", "c"], contiguous=False).query)
    assert '"store_id" IN (' not in str(store_polls_arrays(NOW, ["a", "c"]).query)


def test_scattered_stores_are_read_by_id() -> None:
    # An organization's stores by id, not by range, on both databases' aggregates.
    for store_id in ("a", "b", "c"):
        PollFactory(store=StoreFactory(id=store_id), timestamp_utc=NOW)
    scattered = store_polls_arrays(NOW, ["a", "c"], contiguous=False)
    contiguous = store_polls_arrays(NOW, ["a", "c"])

    assert '"store_id" IN (' in str(scattered.query)
    assert '"store_id" IN (' not in str(contiguous.query)
    assert sorted(row[0] for row in scattered) == ["a", "c"]
    with CaptureQueriesContext(connection) as queries:
        store_polls(NOW, ["a", "c"], contiguous=False)
    assert '"store_id" IN (' in queries.captured_queries[-1]["sql"]


FLOAT_LIMIT = FLOAT_EXACT_MICROSECONDS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="date_part is PostgreSQL's form")
def test_the_double_form_of_an_instant_is_exact_for_a_million_instants_within_its_range() -> None:
    # The proof is in EpochMicroseconds' docstring; this checks PostgreSQL's own
    # arithmetic on random instants over the whole range and on both of its edges.
    instant = "('epoch'::timestamptz + (v / 1000000) * interval '1 second' + (v % 1000000) * interval '1 microsecond')"
    float_form = EpochMicroseconds.FLOAT_TEMPLATE % {"expressions": instant}
    numeric_form = EpochMicroseconds.NUMERIC_TEMPLATE % {"expressions": instant}
    values = (
        f"SELECT (random() * {2 * FLOAT_LIMIT - 2} - {FLOAT_LIMIT - 1})::bigint AS v FROM generate_series(1, 1000000)"
        f" UNION ALL SELECT {FLOAT_LIMIT} - k FROM generate_series(1, 20000) AS k"
        f" UNION ALL SELECT k - {FLOAT_LIMIT} FROM generate_series(1, 20000) AS k"
        f" UNION ALL SELECT {to_instant(NOW)} + k FROM generate_series(-20000, 20000) AS k"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {numeric_form} <> v), count(*) FILTER (WHERE {float_form} <> v)"
            f" FROM ({values}) AS instants"
        )
        checked, numeric_wrong, float_wrong = cursor.fetchone()

    assert (checked, numeric_wrong, float_wrong) == (1_080_001, 0, 0)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's text form of a datetime")
def test_both_sqlite_forms_of_an_instant_are_exact_on_the_edges_of_a_second_and_on_random_instants() -> None:
    # unixepoch() rounds to milliseconds, so its form must hand every fraction
    # from .999 s up to the text form; both must give Python's microseconds.
    seconds = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2023, 1, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 59, tzinfo=UTC),
        datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    fractions = [0, 1, 499_999, 500_000, 998_999, 999_000, 999_499, 999_500, 999_501, 999_999]
    moments = [second.replace(microsecond=fraction) for second in seconds for fraction in fractions]
    generator = random.Random(0)
    span = to_instant(datetime(9999, 1, 1, tzinfo=UTC)) - to_instant(datetime(1, 1, 1, tzinfo=UTC))
    moments += [datetime(1, 1, 1, tzinfo=UTC) + generator.randrange(span) * MICROSECOND for _ in range(100_000)]
    column = "moments.text"
    text_form = EpochMicroseconds.SQLITE_TEXT_TEMPLATE % {"expressions": column}
    unixepoch_form = EpochMicroseconds.SQLITE_UNIXEPOCH_TEMPLATE % {"expressions": column}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE moments (text text, expected integer)", ())
        # As Django writes them: naive UTC, no fraction when it is zero.
        cursor.executemany(
            "INSERT INTO moments VALUES (%s, %s)",
            [(str(moment.replace(tzinfo=None)), to_instant(moment)) for moment in moments],
        )
        # Params, even none, make Django's cursor turn the templates' %% into %.
        cursor.execute(
            f"SELECT count(*), sum({text_form} <> expected), sum({unixepoch_form} <> expected),"
            f" sum({column} NOT LIKE '%%.%%') FROM moments",
            (),
        )
        checked, text_wrong, unixepoch_wrong, whole_seconds = cursor.fetchone()
        cursor.execute("DROP TABLE moments", ())

    assert (checked, text_wrong, unixepoch_wrong) == (100_060, 0, 0)
    assert whole_seconds >= len(seconds)


@pytest.mark.parametrize(
    ("now", "form"),
    [(NOW, "date_part("), (datetime(2050, 6, 1, 0, 0, 0, 999_999, tzinfo=UTC), "EXTRACT(")],
)
def test_the_weeks_instants_are_exact_and_use_the_double_form_only_where_it_is_exact(now: datetime, form: str) -> None:
    store = StoreFactory(id="s")
    # .999999 too: SQLite's strftime('%s') rounds it up to the next second unless given the whole seconds only.
    moments = [now - WEEK, (now - timedelta(days=1)).replace(microsecond=999_999), now - timedelta(microseconds=1), now]
    for moment in moments:
        PollFactory(store=store, timestamp_utc=moment)

    assert store_polls(now, ["s"]) == {"s": [(to_instant(moment), True) for moment in moments]}
    if connection.vendor == "postgresql":
        assert form in str(store_polls_arrays(now, ["s"]).query)
