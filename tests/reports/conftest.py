"""Fixtures for the report API, worker and command tests.

``week_of_polls`` is a small database whose report can be checked by hand
(see the expected rows below); ``run_queued_tasks`` drains the django-q2 ORM
queue through django-q2's own worker and monitor, in this process, so a test
sees a report go from queued to finished through the real task code.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from multiprocessing import Value
from pathlib import Path
from typing import Protocol

import django_q.monitor
import django_q.worker
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.queues import Queue
from django_q.signing import SignedPackage
from django_q.worker import worker
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

NOW = datetime(2023, 1, 25, 12, 0, tzinfo=UTC)
"""The latest poll in ``week_of_polls``: the default ``now`` of a report triggered on it."""

HEADER = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week"
)

# The report of ``week_of_polls``, worked out by hand from SEMANTICS: one
# observation covers the whole week; two split it at their midpoint.
ROW_ALWAYS_DOWN = "always-down,0.00,0.00,0.00,60.00,24.00,168.00"
ROW_ALWAYS_UP = "always-up,60.00,24.00,168.00,0.00,0.00,0.00"
ROW_NEWCOMER = "newcomer,60.00,24.00,168.00,0.00,0.00,0.00"
ROW_OFFICE_HOURS_AT_NOW = "office-hours,0.00,8.00,48.00,0.00,0.00,8.00"
ROW_OFFICE_HOURS_TWO_DAYS_AGO = "office-hours,0.00,8.00,56.00,0.00,0.00,0.00"
ROW_RECOVERED_AT_NOW = "recovered,0.00,0.00,120.00,60.00,24.00,48.00"
ROW_RECOVERED_TWO_DAYS_AGO = "recovered,60.00,24.00,168.00,0.00,0.00,0.00"
CSV_AT_NOW = "\n".join(
    [HEADER, ROW_ALWAYS_DOWN, ROW_ALWAYS_UP, ROW_NEWCOMER, ROW_OFFICE_HOURS_AT_NOW, ROW_RECOVERED_AT_NOW, ""]
)
CSV_TWO_DAYS_AGO = "\n".join([HEADER, ROW_ALWAYS_UP, ROW_OFFICE_HOURS_TWO_DAYS_AGO, ROW_RECOVERED_TWO_DAYS_AGO, ""])

BuildReportCsv = Callable[[datetime], str]


@pytest.fixture
def user(django_user_model: type[User]) -> User:
    """A staff user: the fleet report (every store) is staff's; organizations' members are tests/organizations'."""
    return django_user_model.objects.create_user(username="alice", is_staff=True)


@pytest.fixture
def api_client(user: User) -> APIClient:
    """A client authenticated with ``user``'s API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def week_of_polls() -> datetime:
    """Five stores; the latest poll is at ``NOW``, which is returned.

    - ``always-up`` (24x7): active 3 days ago and at NOW.
    - ``always-down`` (24x7): one inactive poll 30 minutes before NOW.
    - ``recovered`` (24x7): active 3 days ago, inactive 1 day ago: up until the
      midpoint (2 days ago), down since; before that midpoint it was up all week.
    - ``newcomer`` (24x7): its first poll is 1 day ago, so a report as of 2
      days ago has no row for it.
    - ``office-hours`` (Tokyo, 09:00-17:00 every day, that is 00:00-08:00
      UTC): observed active on the 23rd at 06:00 UTC, inactive on the 24th
      at 06:00, active on the 25th at 04:00; its polls at 10:00 on the 25th
      and at 08:00 (17:00 Tokyo, the end of its hours) on the 21st are
      outside business hours and ignored. So it was down for the 8 business
      hours of the 24th and up for the other 6 days of the week.
    """
    always_up = StoreFactory(id="always-up")
    PollFactory(store=always_up, timestamp_utc=NOW - timedelta(days=3), status="active")
    PollFactory(store=always_up, timestamp_utc=NOW, status="active")
    PollFactory(store=StoreFactory(id="always-down"), timestamp_utc=NOW - timedelta(minutes=30), status="inactive")
    recovered = StoreFactory(id="recovered")
    PollFactory(store=recovered, timestamp_utc=NOW - timedelta(days=3), status="active")
    PollFactory(store=recovered, timestamp_utc=NOW - timedelta(days=1), status="inactive")
    PollFactory(store=StoreFactory(id="newcomer"), timestamp_utc=NOW - timedelta(days=1), status="active")
    office = StoreFactory(id="office-hours", timezone="Asia/Tokyo")
    for day in range(7):
        BusinessHoursFactory(store=office, day_of_week=day, start_time_local=time(9), end_time_local=time(17))
    for hours_ago, status in [(2, "inactive"), (8, "active"), (30, "inactive"), (54, "active"), (100, "inactive")]:
        PollFactory(store=office, timestamp_utc=NOW - timedelta(hours=hours_ago), status=status)
    return NOW


@pytest.fixture
def q_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 runs each task inside ``async_task``, as its ``sync`` option does.

    ``django_q.conf.Conf`` copies ``settings.Q_CLUSTER`` once, at import, so
    overriding the setting in a test changes nothing; the class attribute is
    what ``async_task`` reads on every call.
    """
    monkeypatch.setattr(Conf, "SYNC", True)


class RunQueuedTasks(Protocol):
    def __call__(self, *, limit: int | None = None, after_each: Callable[[], None] | None = None) -> int: ...


@pytest.fixture
def run_queued_tasks(monkeypatch: pytest.MonkeyPatch) -> RunQueuedTasks:
    """Run the tasks waiting in the ORM broker the way a cluster does, including the tasks they queue.

    Each package goes through django-q2's ``worker`` (which calls the task and
    catches its exception) and ``monitor`` (which saves the result and
    acknowledges the package); a task queued by a task waits its turn. Only
    their closing of "old" database connections is switched off: here those
    are the test's own. Stops after ``limit`` tasks when given; calls
    ``after_each`` after every task; returns how many ran.
    """

    def keep_connections() -> None:
        return None

    monkeypatch.setattr(django_q.worker, "close_old_django_connections", keep_connections)
    monkeypatch.setattr(django_q.monitor, "close_old_django_connections", keep_connections)

    def run(*, limit: int | None = None, after_each: Callable[[], None] | None = None) -> int:
        broker = get_broker()
        ran = 0
        while (limit is None or ran < limit) and broker.queue_size():
            for ack_id, payload in broker.dequeue() or []:
                task = SignedPackage.loads(payload) | {"ack_id": ack_id, "cluster": Conf.CLUSTER_NAME}
                task_queue, result_queue = Queue(), Queue()
                task_queue.put(task)
                task_queue.put("STOP")
                worker(task_queue, result_queue, Value("f", -1))
                result_queue.put("STOP")
                monitor(result_queue, broker)
                for queue in (task_queue, result_queue):
                    queue.close()
                    queue.join_thread()
                ran += 1
                if after_each is not None:
                    after_each()
        return ran

    return run


@pytest.fixture
def build_report_csv(tmp_path: Path) -> BuildReportCsv:
    """The CSV ``manage.py build_report --as-of … --output …`` writes for a given ``now``."""

    def build(as_of: datetime) -> str:
        output = tmp_path / f"build-report-{as_of:%Y%m%dT%H%M%S%f}.csv"
        call_command("build_report", as_of=as_of.isoformat(), output=str(output), stderr=io.StringIO())
        return output.read_text(encoding="utf-8")

    return build
