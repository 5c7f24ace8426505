"""Keeping PostgreSQL's planner statistics in step with large loads.

The report reads a chunk of stores' polls with one range query; how
PostgreSQL runs it depends on the table's statistics. Without them (a table
just loaded, on a server whose autovacuum is off or has not come round yet,
as on this project's CI machine) it took a shard's 240k polls for 15 rows
and chose a bitmap scan with an on-disk sort. So a load that changes a
table as much as would make autovacuum analyze it analyzes it itself, in
the load's transaction; an hourly file, a sliver of the table, does not.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults.
_BASE_ROWS = 50
_FRACTION = 0.1


def refresh_planner_statistics(model: type[Model], *, changed: int) -> bool:
    """``ANALYZE`` the model's table if ``changed`` rows are a tenth of it or more; returns whether it did.

    A no-op on SQLite, whose planner works without statistics.
    """
    if connection.vendor != "postgresql":
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        (estimate,) = cursor.fetchone()
        if changed <= _BASE_ROWS + _FRACTION * max(estimate, 0):  # -1: never analyzed
            return False
        cursor.execute(f"ANALYZE {table}")
    return True
