"""Set-based loads of business hours and timezones on PostgreSQL: ``COPY`` to a stage, then a few statements.

The rules are those of :func:`ingestion.services.hours_ingest` and
:func:`~ingestion.services.timezones_ingest`, which parse the file and
decide which stores are named; only the writing differs. Row by row
through the ORM (chunked ``IN`` lists, ``bulk_create``, ``bulk_update``'s
``CASE`` per row) took 4.9 s for the 86k-row hours file and 3.0 s for the
13.6k timezones; the stage and one join per step take a fraction of that.

Stores are created and then locked in store-id order, the order every
loader uses (see ``ingestion.services._lock_stores``), so two loads of the
same stores run one after the other per store and never deadlock. Call
inside the load's transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.backends.utils import CursorWrapper

from stores.models import BusinessHours, Store

Shift = tuple[int, dt.time, dt.time]


def _copy_text(value: str) -> str:
    # Store ids and zone names never hold control characters (the rules refuse them).
    return value.replace("\\", "\\\\")


def _stage(cursor: CursorWrapper, table: str, columns: str, lines: Iterable[str]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
    cursor.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
    with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        copy.write("".join(lines))
    cursor.execute(f"ANALYZE {table}")


def _create_and_lock_stores(cursor: CursorWrapper, stage: str, zone_column: str | None = None) -> int:
    """Insert the stage's missing stores (with their zone when given), then lock all of them; returns how many new."""
    store_table = Store._meta.db_table
    if zone_column is None:
        cursor.execute(
            f"INSERT INTO {store_table} (id) SELECT DISTINCT store_id FROM {stage} AS staged "
            f"WHERE NOT EXISTS (SELECT 1 FROM {store_table} AS store WHERE store.id = staged.store_id) "
            "ORDER BY store_id ON CONFLICT (id) DO NOTHING"
        )
    else:
        cursor.execute(
            f"INSERT INTO {store_table} (id, timezone) SELECT store_id, {zone_column} FROM {stage} AS staged "
            f"WHERE NOT EXISTS (SELECT 1 FROM {store_table} AS store WHERE store.id = staged.store_id) "
            "ORDER BY store_id ON CONFLICT (id) DO NOTHING"
        )
    created: int = cursor.rowcount
    # LockRows sits above the sort: the rows are locked in store-id order.
    cursor.execute(f"SELECT id FROM {store_table} WHERE id IN (SELECT store_id FROM {stage}) ORDER BY id FOR UPDATE")
    cursor.fetchall()
    return created


def _hours_lines(to_add: dict[str, set[Shift]]) -> Iterator[str]:
    """The shifts as COPY text, in any order (the INSERT sorts); a file holds a few hundred distinct times."""
    text = functools.lru_cache(maxsize=None)(dt.time.isoformat)
    for store_id, shifts in to_add.items():
        store = _copy_text(store_id)
        for day, start, end in shifts:
            yield f"{store}\t{day}\t{text(start)}\t{text(end)}\n"


def hours_replace_postgresql(to_add: dict[str, set[Shift]]) -> tuple[int, int]:
    """Make each named store's stored schedule exactly its shifts in ``to_add``; returns (inserted, removed).

    A row already stored as wanted is kept (so a repeated load writes
    nothing); a second stored copy of it, or a row not wanted, is removed.
    """
    hours = BusinessHours._meta.db_table
    with connection.cursor() as cursor:
        # The statements below sort the whole stage; 86k rows spill past the default 4 MB.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        _stage(
            cursor,
            "hours_staging",
            'store_id text COLLATE "C", day smallint, start_time time, end_time time',
            _hours_lines(to_add),
        )
        # A store whose shifts are all rejected is not in to_add, so not in the stage: it keeps its schedule.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.hours_stores")
        cursor.execute("CREATE TEMP TABLE hours_stores ON COMMIT DROP AS SELECT DISTINCT store_id FROM hours_staging")
        _create_and_lock_stores(cursor, "hours_stores")
        cursor.execute(
            f"""
            DELETE FROM {hours} AS stored USING (
                SELECT hours.id, staged.store_id IS NOT NULL AS wanted,
                       row_number() OVER (
                           PARTITION BY hours.store_id, hours.day_of_week, hours.start_time_local, hours.end_time_local
                           ORDER BY hours.id
                       ) AS copy
                FROM {hours} AS hours
                JOIN hours_stores AS named ON named.store_id = hours.store_id
                LEFT JOIN hours_staging AS staged
                       ON staged.store_id = hours.store_id AND staged.day = hours.day_of_week
                      AND staged.start_time = hours.start_time_local AND staged.end_time = hours.end_time_local
            ) AS judged
            WHERE judged.id = stored.id AND (NOT judged.wanted OR judged.copy > 1)
            """
        )
        removed: int = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {hours} (store_id, day_of_week, start_time_local, end_time_local)
            SELECT staged.store_id, staged.day, staged.start_time, staged.end_time FROM hours_staging AS staged
            WHERE NOT EXISTS (
                SELECT 1 FROM {hours} AS hours
                WHERE hours.store_id = staged.store_id AND hours.day_of_week = staged.day
                  AND hours.start_time_local = staged.start_time AND hours.end_time_local = staged.end_time
            )
            ORDER BY staged.store_id, staged.day, staged.start_time, staged.end_time
            """
        )
        inserted: int = cursor.rowcount
        cursor.execute("DROP TABLE pg_temp.hours_staging, pg_temp.hours_stores")
    return inserted, removed


def timezones_set_postgresql(zones: dict[str, str]) -> tuple[int, int]:
    """Set each store's zone, creating missing stores with it; returns (stores created, stores changed)."""
    store_table = Store._meta.db_table
    lines = (f"{_copy_text(store_id)}\t{_copy_text(zones[store_id])}\n" for store_id in sorted(zones))
    with connection.cursor() as cursor:
        _stage(cursor, "zone_staging", 'store_id text COLLATE "C", zone text', lines)
        created = _create_and_lock_stores(cursor, "zone_staging", zone_column="zone")
        cursor.execute(
            f"""
            UPDATE {store_table} AS store SET timezone = staged.zone FROM zone_staging AS staged
            WHERE store.id = staged.store_id AND store.timezone IS DISTINCT FROM staged.zone
            """
        )
        changed: int = cursor.rowcount
        cursor.execute("DROP TABLE pg_temp.zone_staging")
    return created, changed
