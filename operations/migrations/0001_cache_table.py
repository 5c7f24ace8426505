"""The database cache's table (django-q2's cluster stats; throttles count in 0002's table) when Redis is not set.

``createcachetable`` creates the table of every DatabaseCache in CACHES
and skips those that exist; with REDIS_URL set there is none to create.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
