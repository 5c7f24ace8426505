"""``manage.py bench_fetch``: which way of reading poll instants out of the database is cheaper.

The report needs each poll's instant as integer microseconds. Either the
database computes it (:class:`reports.selectors.EpochMicroseconds`) or the
driver builds an aware ``datetime`` and Python converts it. This reads the
week's polls both ways and prints the time of each. On PostgreSQL it also
times the two shapes :func:`reports.selectors.store_polls` can read: a row
per poll, or a row per store with its instants and statuses as arrays.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from reports.engine.units import to_instant
from reports.selectors import (
    EpochMicroseconds,
    latest_poll_time,
    polls_in_week,
    reported_store_ids,
    store_polls_arrays,
    store_polls_rows,
)


class Command(BaseCommand):
    help = "Time reading a week of polls as database-computed epoch integers versus datetimes converted in Python."

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
        if connection.vendor != "postgresql":
            return
        store_ids = reported_store_ids(now)
        started = time.perf_counter()
        rows = sum(1 for _ in store_polls_rows(now, store_ids).iterator(10_000))
        as_rows = time.perf_counter() - started
        started = time.perf_counter()
        arrays = store_polls_arrays(now, store_ids)
        stores = sum(1 for _, instants, actives in arrays.iterator(1_000) if list(zip(instants, actives, strict=True)))
        as_arrays = time.perf_counter() - started
        self.stdout.write(
            f"the week's polls of all stores: {rows:,} rows {as_rows:.2f} s, "
            f"{stores:,} rows of arrays (zipped into polls) {as_arrays:.2f} s"
        )
