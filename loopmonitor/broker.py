"""django-q2's database broker, woken by PostgreSQL's ``LISTEN``/``NOTIFY`` rather than polling an empty queue.

django-q2's ORM broker looks for a task, and on an empty queue sleeps
``Q_POLL`` (0.05 s) and looks again. A look costs the pusher process about
1.3 ms of CPU and the database a query, so an idle cluster used 0.06 of a
core here, all day, and a report's two workers shared their two cores with
it; and each hop of a report (trigger, plan, shard) waited half a poll on
average before a worker saw it.

Here every task queued on PostgreSQL also sends a notification, in the same
transaction, so it reaches the pusher when the task's row commits and not
before (a shard's task commits with the shard). The pusher waits for one on
a connection of its own, and looks at the queue when woken, or after
``Q_POLL_LISTENING`` seconds without one: a task whose lease ran out (its
worker died) comes back without a notification. SQLite, and
``Q_LISTEN=false`` (behind a pooler that does not keep a session, such as
PgBouncer in transaction mode, ``LISTEN`` is lost), keep django-q2's polling.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)

CHANNEL = "django_q_ormq"
"""The notification channel: one per database, whatever the cluster's name (a wake-up says only "look")."""


class ListeningORM(ORM):  # type: ignore[misc]  # django-q2 is untyped
    """The ORM broker, with a notification per queued task and a pusher that waits for one rather than polling."""

    def __init__(self, list_key: str | None = None) -> None:
        super().__init__(list_key=list_key)
        self._listener: psycopg.Connection[Any] | None = None

    @staticmethod
    def listens() -> bool:
        return bool(settings.Q_LISTEN) and connections[Conf.ORM].vendor == "postgresql"

    def enqueue(self, task: str) -> int:
        pk: int = super().enqueue(task)
        if self.listens():
            with connections[Conf.ORM].cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
        return pk

    def dequeue(self) -> list[tuple[int, str]] | None:
        listener = self._listening() if self.listens() else None
        if listener is None:
            return super().dequeue()  # type: ignore[no-any-return]
        # Listening already, so a task committed after this look still wakes the wait below.
        tasks = self._take()
        if tasks:
            return tasks
        try:
            woken = any(True for _ in listener.notifies(timeout=settings.Q_POLL_LISTENING, stop_after=1))
            if woken:
                for _ in listener.notifies(timeout=0):
                    pass  # one look serves every task queued until now
        except psycopg.Error as error:
            logger.warning("the broker's LISTEN connection failed (%s); connecting again", error)
            self._close_listener()
        return None

    def _take(self) -> list[tuple[int, str]]:
        """django-q2's ``ORM.dequeue`` without its sleep: lease each task that is due, skip any another pusher took."""
        taken = []
        for task in self.get_connection().filter(key=self.list_key, lock__lt=timezone.now())[: Conf.BULK]:
            if self.get_connection().filter(id=task.id, lock=task.lock).update(lock=self.timeout(task)):
                taken.append((task.pk, task.payload))
        return taken

    def _listening(self) -> psycopg.Connection[Any] | None:
        """The connection that ``LISTEN``s, opened on first use and after a failure; ``None`` while none can open."""
        if self._listener is not None and not self._listener.closed:
            return self._listener
        database = connections[Conf.ORM]
        try:
            listener = psycopg.connect(**database.get_connection_params(), autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            logger.warning("the broker cannot LISTEN (%s); polling until it can", error)
            return None
        self._listener = listener
        return listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._listener = None
