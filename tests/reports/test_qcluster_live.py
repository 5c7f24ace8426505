"""The real thing: a ``manage.py qcluster`` subprocess runs reports triggered and polled over HTTP.

The cluster is a separate process on the test database (PostgreSQL or the
SQLite test file, whichever the suite runs on), with two workers sharing the
shards of two reports, so the test is transactional:
the rows it writes are committed and visible to the worker, and the worker's
are visible to the live server. Every wait is bounded, and the cluster's
process group is stopped in ``finally`` whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Failure
from pytest_django.live_server_helper import LiveServer
from rest_framework.authtoken.models import Token

from tests.reports.conftest import CSV_AT_NOW, CSV_TWO_DAYS_AGO, BuildReportCsv

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

REPORTS_DONE_WITHIN_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10


def this_tests_database_url() -> str:
    """A ``DATABASE_URL`` naming the database this test runs on (the test database, not the real one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


@dataclass(frozen=True)
class Cluster:
    process: subprocess.Popen[bytes]
    log_path: Path

    def trouble(self) -> str | None:
        """Why waiting longer is pointless: the cluster exited, or one of its tasks failed."""
        if self.process.poll() is not None:
            return f"qcluster exited with status {self.process.returncode}"
        failed = [f"{task.name}: {task.result}" for task in Failure.objects.all()]
        return f"django-q2 tasks failed: {failed}" if failed else None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["orm", "redis"])
def broker_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Both brokers the service supports: the database (default) and Redis (``REDIS_URL``).

    For Redis, this process (the live server that queues tasks) is switched
    to Redis too, on a queue of its own so no other run's tasks mix in.
    """
    if request.param == "orm":
        yield {"REDIS_URL": ""}
        return
    name = f"loopmonitor-test-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "BROKER_CLASS", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "PREFIX", name)
    try:
        get_broker().ping()
    except Exception as error:  # noqa: BLE001 - any failure to reach Redis is the message
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); .ci/run starts it")
    yield {"REDIS_URL": REDIS_URL, "Q_CLUSTER_NAME": name}
    get_broker().purge_queue()


@pytest.fixture
def qcluster(isolated_reports: Path, tmp_path: Path, broker_env: dict[str, str]) -> Iterator[Cluster]:
    """A django-q2 cluster of two workers on the test database, cutting reports into shards of 2 stores."""
    log_path = tmp_path / "qcluster.log"
    env = {
        **os.environ,
        "DATABASE_URL": this_tests_database_url(),
        "MEDIA_ROOT": str(isolated_reports),
        "Q_WORKERS": "2",
        "Q_SYNC": "0",
        "REPORT_SHARD_SIZE": "2",
        "DEBUG": "1",
        **broker_env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers it forks are stopped with it
        )
        try:
            yield Cluster(process, log_path)
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the cluster (it stops its workers itself), then SIGKILL to whatever is left of its group.

    Only the cluster gets the SIGTERM: its sentinel process dies on SIGTERM
    without stopping the workers, and the cluster then waits for it forever.
    """
    process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def http(
    method: str, url: str, token: str, accept: str = "*/*", body: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Token {token}", "Accept": accept, "Content-Type": "application/json"}
    payload = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=payload, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def poll_until_finished(url: str, token: str, cluster: Cluster) -> list[dict[str, Any]]:
    """Every JSON answer of ``url`` until the report is no longer Running (or the cluster is in trouble)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + REPORTS_DONE_WITHIN_SECONDS
    while time.monotonic() < deadline:
        status, _, body = http("GET", url, token, accept="application/json")
        assert status == 200, body
        seen.append(json.loads(body))
        if seen[-1]["status"] != "Running":
            return seen
        if trouble := cluster.trouble():
            pytest.fail(f"{trouble}\nlast answer: {seen[-1]}\nqcluster log:\n{cluster.log_tail()}")
        time.sleep(0.2)
    pytest.fail(f"still Running after {REPORTS_DONE_WITHIN_SECONDS} s: {seen[-1]}\nqcluster log:\n{cluster.log_tail()}")


def test_a_qcluster_worker_completes_two_reports_triggered_together_over_http(
    live_server: LiveServer,
    qcluster: Cluster,
    user: User,
    week_of_polls: datetime,
    build_report_csv: BuildReportCsv,
) -> None:
    token = Token.objects.create(user=user).key
    two_days_ago = (week_of_polls - timedelta(days=2)).isoformat()

    triggered = [
        http("POST", f"{live_server.url}/trigger_report", token),
        http("POST", f"{live_server.url}/trigger_report/", token, body={"as_of": two_days_ago}),
    ]
    assert [status for status, _, _ in triggered] == [202, 202]
    latest_url, earlier_url = (headers["Location"] for _, headers, _ in triggered)
    latest_answers = poll_until_finished(latest_url, token, qcluster)
    earlier_answers = poll_until_finished(earlier_url, token, qcluster)

    for answers in (latest_answers, earlier_answers):
        assert all(answer["status"] == "Running" and 0.0 <= answer["progress"] <= 1.0 for answer in answers[:-1])
        assert answers[-1]["status"] == "Complete", answers[-1]
    status, headers, body = http("GET", latest_url, token)
    assert status == 200
    assert headers["Content-Type"] == "text/csv"
    assert headers["X-Report-Status"] == "Complete"
    assert headers["Content-Disposition"] == f'attachment; filename="report-{latest_answers[-1]["report_id"]}.csv"'
    assert body.decode() == CSV_AT_NOW == build_report_csv(week_of_polls)
    assert earlier_answers[-1]["as_of"] == "2023-01-23T12:00:00Z"
    assert http("GET", earlier_answers[-1]["download_url"], token)[2].decode() == CSV_TWO_DAYS_AGO
