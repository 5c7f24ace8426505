"""``manage.py bench_fetch``: which way of reading poll instants out of the database is cheaper.

The report needs each poll's instant as integer microseconds. Either the
database computes it (:class:`reports.selectors.EpochMicroseconds`) or the
driver builds an aware ``datetime`` and Python converts it. This reads the
week's polls both ways and prints the time of each.

Then, chunk by chunk as a report reads them, the two shapes the week's polls
can come in, each made into the engine's per-store lists: a row per poll,
appended to its store in Python (:func:`reports.period_selectors.period_store_polls`,
over the same window), or a row per store with its instants and statuses as
arrays (``ArrayAgg`` on PostgreSQL, ``json_group_array`` on SQLite), which
:func:`reports.selectors.store_polls` reads.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from loopmonitor.sequences import chunked
from reports.engine.units import to_instant
from reports.period_selectors import period_store_polls
from reports.selectors import (
    WEEK_WINDOW,
    EpochMicroseconds,
    latest_poll_time,
    polls_in_week,
    reported_store_ids,
    store_polls,
)


class Command(BaseCommand):
    help = (
        "Time reading a week of polls as database-computed epoch integers versus datetimes converted in Python,"
        " and as a row per poll versus arrays per store."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = latest_poll_time()
        if now is None:
            self.stdout.write("no polls")
            return
        week = polls_in_week(now).order_by("store_id", "timestamp_utc")
        started = time.perf_counter()
        as_integers = week.values_list("store_id", EpochMicroseconds("timestamp_utc"), "status")
        count = sum(1 for _ in as_integers.iterator(10_000))
        epoch = time.perf_counter() - started
        started = time.perf_counter()
        for _, moment, _ in week.values_list("store_id", "timestamp_utc", "status").iterator(10_000):
            to_instant(moment)
        datetimes = time.perf_counter() - started
        self.stdout.write(
            f"fetch {count:,} polls: epoch integers {epoch:.2f} s, datetimes + conversion {datetimes:.2f} s"
        )
        chunks = list(chunked(reported_store_ids(now), settings.REPORT_CHUNK_SIZE))
        start = now - WEEK_WINDOW
        started = time.perf_counter()
        rows = sum(len(polls) for chunk in chunks for polls in period_store_polls(start, now, chunk).values())
        as_rows = time.perf_counter() - started
        started = time.perf_counter()
        arrays = sum(len(series) for chunk in chunks for series in store_polls(now, chunk).values())
        as_arrays = time.perf_counter() - started
        self.stdout.write(
            f"the week's polls in {len(chunks)} chunks of {settings.REPORT_CHUNK_SIZE:,} stores, into per-store lists:"
            f" a row per poll {as_rows:.2f} s ({rows:,} polls), arrays per store {as_arrays:.2f} s ({arrays:,} polls)"
        )
