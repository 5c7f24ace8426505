"""Store ids compare byte by byte on PostgreSQL, as they do on SQLite.

Ids are opaque text, so linguistic collation buys nothing, and it is slow:
with a database default such as ``C.UTF-8`` or ``en_US.UTF-8`` every index
comparison on a store id goes through ``strcoll``, which made loading and
sorting 1.8M polls several times slower. It also makes store order the same
on both databases.
"""

from django.db import migrations

COLUMNS = [("stores_store", "id"), ("stores_poll", "store_id"), ("stores_businesshours", "store_id")]


def use_c_collation(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(64) COLLATE "C"')


def use_default_collation(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(64) COLLATE "default"')


class Migration(migrations.Migration):
    dependencies = [("stores", "0001_initial")]

    operations = [migrations.RunPython(use_c_collation, use_default_collation)]
