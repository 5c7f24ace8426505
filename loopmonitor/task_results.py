"""django-q2's records of successful tasks: the newest kept by the daily prune, not pruned after each task.

django-q2 enforces its ``save_limit`` in the cluster's monitor after every
task: it locks and loads every stored success (``SELECT … FOR UPDATE`` of
the whole table, each row a model with its pickled arguments and result)
only to count them, then deletes the oldest (django-q2 issue #351, open).
The once-a-minute recovery schedule alone keeps 1,000 records there, and
at 1,000 the monitor spent 0.29 s of CPU per fleet report (its ten tasks;
the database's share on top) against 0.04 s without the check, on the two
cores the report's workers compute on (docs/benchmarks.md, tenth round).
So the cluster keeps every success (``save_limit`` 0, which skips that
check) and :func:`task_successes_prune` deletes all but the newest
``TASK_SUCCESSES_KEPT`` in one statement, from the daily retention schedule
and ``manage.py prune``: between two prunes the table holds at most a day's
successes more.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_q.models import Success, Task


def task_successes_prune(*, keep: int | None = None) -> int:
    """Delete the successful task records older than the newest ``keep`` (``TASK_SUCCESSES_KEPT``); how many went.

    ``keep`` 0 deletes them all. Newest by ``stopped``, as django-q2 counts
    them; records stopped at the same instant as the ``keep``-th newest stay
    with it. Failures are not touched: django-q2 keeps them all, for an
    operator to read and clear.
    """
    keep = settings.TASK_SUCCESSES_KEPT if keep is None else keep
    successes: QuerySet[Task] = Success.objects.all()  # django-q2 is untyped
    if keep > 0:
        oldest_kept = successes.order_by("-stopped").values_list("stopped", flat=True)[keep - 1 : keep].first()
        if oldest_kept is None:
            return 0
        successes = successes.filter(stopped__lt=oldest_kept)
    deleted, _ = successes.delete()
    return deleted
