"""The data version: one number that changes whenever what a report reads changes.

A report's numbers follow from its scope, its ``now`` (or period), its SLA
target and the data: the polls, business hours and timezones of the stores,
and (for an organization's report) which stores the organization owns. The
first three are on the report; the data is summed up by
:class:`stores.models.DataVersion`, a counter every writer of those tables
bumps **in the same transaction** as its change:

* the loaders of :mod:`ingestion.services` (the ``ingest`` command, the admin
  import screens, ``/ingest/…``, the inbox all go through them), once per
  file, and only when the file changed something, so a repeated load keeps
  the version;
* retention (:mod:`reports.retention`), once per slice of stores that has
  polls to delete;
* ``demo_owners`` (development only), when it gives stores away;
* any other ORM save or delete of a store, a poll or an hours row (the admin's
  edit pages, a shell) through the signal receivers of :mod:`stores.signals`.

A writer bumps last, just before it commits: the counter row is then locked
only for the moment between bump and commit, and never while the writer
waits for another lock, so writers cannot deadlock on it (retention, which
locks the reports table, is the one exception and bumps first; see there).
A trigger reads the last committed version holding the triggers' own lock
(:func:`data_version_for_trigger`), so two equal triggers run one after the
other. The plan's snapshot is taken after the trigger, so it holds every
change the recorded version counts (and perhaps a later one, which only
makes the next equal trigger compute a new report).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from stores.models import DataVersion

_ROW = 1


def data_version_bump() -> None:
    """Count one change to polls, hours, zones or ownership; call it in the transaction that made the change."""
    counter = DataVersion.objects.filter(pk=_ROW)
    if not counter.update(version=F("version") + 1):
        # The row is made by a migration; a test database flushed between tests has lost it.
        DataVersion.objects.bulk_create([DataVersion(pk=_ROW, version=0)], ignore_conflicts=True)
        counter.update(version=F("version") + 1)


#: The ``pg_advisory_xact_lock`` key that serializes triggers (the inbox's is 17001).
TRIGGER_LOCK_KEY = 18001


def data_version_for_trigger() -> int:
    """The last committed data version, the triggers' lock held until the caller's transaction ends.

    Call inside the trigger's transaction: the next trigger waits for it to
    commit, then finds its report. PostgreSQL: a transaction-level advisory
    lock, which writes nothing. The counter's row lock (``SELECT … FOR
    UPDATE``) used before made every trigger, even one that found an equal
    report, a writing transaction, whose commit waits for a WAL flush while
    the next trigger waits for the lock: under the load test a trigger took
    0.4–0.9 s. SQLite: the project's transactions are ``IMMEDIATE``, so the
    caller already holds the database's one write lock.
    """
    assert connection.in_atomic_block, "data_version_for_trigger() needs the caller's transaction"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TRIGGER_LOCK_KEY])
    version = DataVersion.objects.filter(pk=_ROW).values_list("version", flat=True).first()
    if version is None:
        DataVersion.objects.bulk_create([DataVersion(pk=_ROW, version=0)], ignore_conflicts=True)
        version = DataVersion.objects.filter(pk=_ROW).values_list("version", flat=True).get()
    return version
