"""On PostgreSQL the unique (store, time) index also carries each poll's status and id.

A report reads a store's polls by that index and needs only those two more
columns (``id`` bounds a report's snapshot), so with them in the index it
reads the index alone (an index-only scan) and never the table. Where the
rows lie in the table then stops mattering, which lets a first load append a
file in its own order (``ingestion.poll_loader``). The constraint and what it
refuses are unchanged; SQLite has no such index (Django's ``include`` would
drop the constraint there), so the model keeps the plain constraint.
"""

from django.db import migrations

TABLE = "stores_poll"
CONSTRAINT = "poll_store_timestamp_unique"


def _replace(schema_editor, definition: str) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CONSTRAINT}")
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {CONSTRAINT} {definition}")


def cover_reads(apps, schema_editor):  # type: ignore[no-untyped-def]
    _replace(schema_editor, "UNIQUE (store_id, timestamp_utc) INCLUDE (status, id)")


def uncover_reads(apps, schema_editor):  # type: ignore[no-untyped-def]
    _replace(schema_editor, "UNIQUE (store_id, timestamp_utc)")


class Migration(migrations.Migration):
    dependencies = [("stores", "0006_hours_ordered_by_store_column")]

    operations = [migrations.RunPython(cover_reads, uncover_reads)]
