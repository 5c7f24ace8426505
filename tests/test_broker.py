"""The database broker on PostgreSQL: a committed task wakes a waiting pusher, nothing else does, a lost lease is found.

Each test waits in ``dequeue`` as the cluster's pusher does, on a thread of
its own (its own database connection), with rows committed for real. The
last test, where the broker polls, runs on SQLite too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ
from pytest_django.fixtures import Settings

from loopmonitor.broker import ListeningORM

pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")

NEVER_WITHIN_THE_TEST = 60.0
"""A fallback look so late that a task taken before it was taken because of its notification."""


class Pusher:
    """``dequeue`` called in a loop on a thread, as django-q2's pusher does, until it takes something."""

    def __init__(self, broker: ListeningORM) -> None:
        self.broker = broker
        self.taken: list[tuple[int, str]] = []
        self.taken_at = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.taken:
                self.taken = self.broker.dequeue() or []
            self.taken_at = time.monotonic()
        finally:
            connection.close()

    def start(self) -> Pusher:
        self._thread.start()
        time.sleep(0.3)  # it has looked at the empty queue and waits
        return self

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture
def broker(settings: Settings) -> Iterator[ListeningORM]:
    settings.Q_POLL_LISTENING = NEVER_WITHIN_THE_TEST
    broker = get_broker()
    assert isinstance(broker, ListeningORM)
    yield broker
    broker.purge_queue()


def test_the_settings_choose_the_listening_broker_for_the_database_queue_and_it_listens_on_postgresql() -> None:
    broker = get_broker()

    assert isinstance(broker, ListeningORM)
    assert broker.listens() == (connection.vendor == "postgresql")


@postgresql_only
def test_a_committed_task_wakes_the_waiting_pusher_long_before_its_fallback_look(broker: ListeningORM) -> None:
    pusher = Pusher(broker).start()

    queued_at = time.monotonic()
    task_id = get_broker().enqueue("a task")

    assert pusher.join(timeout=10), "the pusher slept through the task's notification"
    assert [pk for pk, _ in pusher.taken] == [task_id]
    assert pusher.taken_at - queued_at < 5  # the fallback look would have been 60 s away


@postgresql_only
def test_a_task_queued_in_a_transaction_wakes_the_pusher_only_when_it_commits(broker: ListeningORM) -> None:
    pusher = Pusher(broker).start()

    with transaction.atomic():
        task_id = get_broker().enqueue("a shard's task")
        time.sleep(0.5)
        assert pusher.taken == []  # not before the row commits: the worker would not find it
    assert pusher.join(timeout=10)
    assert [pk for pk, _ in pusher.taken] == [task_id]


@postgresql_only
def test_a_rolled_back_task_sends_nothing(broker: ListeningORM) -> None:
    listener = broker._listening()
    assert listener is not None

    with pytest.raises(RuntimeError), transaction.atomic():
        get_broker().enqueue("a task whose transaction fails")
        raise RuntimeError

    assert list(listener.notifies(timeout=0.5)) == []
    assert not OrmQ.objects.exists()


@postgresql_only
def test_a_task_back_from_a_lost_lease_is_found_by_the_fallback_look(broker: ListeningORM, settings: Settings) -> None:
    settings.Q_POLL_LISTENING = 0.2
    pusher = Pusher(broker).start()

    # What a dead worker leaves: the task's row, its lease run out, and no notification.
    task = OrmQ.objects.create(key=broker.list_key, payload="an abandoned task", lock=timezone.now())

    assert pusher.join(timeout=10), "nothing looked at the queue without a notification"
    assert [pk for pk, _ in pusher.taken] == [task.pk]


@postgresql_only
def test_the_pusher_listens_again_after_its_connection_is_cut(broker: ListeningORM) -> None:
    listener = broker._listening()
    assert listener is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [listener.info.backend_pid])
    assert broker.dequeue() is None  # the wait fails on the cut connection: logged, and let go

    pusher = Pusher(broker).start()
    task_id = get_broker().enqueue("a task after the cut")

    assert pusher.join(timeout=10), "the pusher did not listen again"
    assert [pk for pk, _ in pusher.taken] == [task_id]
    assert broker._listener is not listener


def test_where_it_does_not_listen_the_broker_polls_as_django_q2_does(broker: ListeningORM, settings: Settings) -> None:
    """On PostgreSQL with ``Q_LISTEN`` off; on SQLite, which has no ``LISTEN``, with it on."""
    settings.Q_LISTEN = connection.vendor != "postgresql"
    task_id = broker.enqueue("a task")

    assert [pk for pk, _ in broker.dequeue() or []] == [task_id]
    assert broker._listener is None  # it opened no connection to LISTEN on
