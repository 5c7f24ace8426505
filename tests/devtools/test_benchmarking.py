"""Benchmarks drop, recreate and clear databases only when named as benchmark databases, and count CPU right."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psutil
import pytest
from django.core.management import call_command
from django.db import connection

from devtools.benchmarking import BenchmarkError, benchmark_database_name, database_server, tree_cpu_seconds
from tests.factories import PollFactory, StoreFactory
from tests.reports.test_qcluster_live import this_tests_database_url


def test_a_benchmark_database_is_recognised_by_its_name() -> None:
    url = "postgres://postgres@127.0.0.1:5432/loopmonitor_bench_cluster"

    assert benchmark_database_name(url, doing="drop") == "loopmonitor_bench_cluster"


@pytest.mark.parametrize("name", ["loopmonitor", "production", "loopmonitor_bnch"])
def test_any_other_database_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(BenchmarkError, match=f"refusing to drop database '{name}'.*must contain 'bench'"):
        benchmark_database_name(f"postgres://postgres@127.0.0.1:5432/{name}", doing="drop")


BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def _child_that(code: str) -> subprocess.Popen[bytes]:
    """A Python process running ``code``, then waiting on stdin until the test is done reading its times."""
    return subprocess.Popen([sys.executable, "-c", code + "import sys\nsys.stdin.read()\n"], stdin=subprocess.PIPE)


def test_a_process_trees_cpu_counts_its_exited_children_once_reaped() -> None:
    # The child burns 0.1 s itself and reaps a grandchild that burned 0.3 s.
    grandchild = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {BURN.format(seconds=0.3)!r}])\n"
    child = _child_that(grandchild + BURN.format(seconds=0.1))
    try:
        deadline = time.monotonic() + 30
        while tree_cpu_seconds(psutil.Process(child.pid)) < 0.4 and time.monotonic() < deadline:
            time.sleep(0.05)

        assert 0.4 <= tree_cpu_seconds(psutil.Process(child.pid)) < 0.4 + 0.5
    finally:
        child.communicate(b"")


def test_a_process_trees_cpu_counts_its_live_children() -> None:
    burn_then_sleep = BURN.format(seconds=0.3) + "import time\ntime.sleep(60)\n"
    grandchild = f"import subprocess, sys\nkid = subprocess.Popen([sys.executable, '-c', {burn_then_sleep!r}])\n"
    child = _child_that(grandchild)
    try:
        root = psutil.Process(child.pid)
        deadline = time.monotonic() + 30
        while tree_cpu_seconds(root) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = root.children()

        assert len(kids) == 1 and kids[0].cpu_times().user + kids[0].cpu_times().system >= 0.25
        assert 0.3 <= tree_cpu_seconds(root) < 0.3 + 0.5
    finally:
        for kid in psutil.Process(child.pid).children():
            kid.kill()
        child.communicate(b"")


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the CPU of a PostgreSQL server")
def test_the_database_server_is_the_parent_of_every_connections_backend() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (this_backend,) = cursor.fetchone()

    server = database_server(this_tests_database_url())

    assert this_backend in [backend.pid for backend in server.children()]
    assert tree_cpu_seconds(server) > 0


@pytest.mark.django_db
def test_bench_fetch_reads_every_poll_of_the_week_in_both_shapes() -> None:
    # Both shapes must count the same polls, or their times compare different work.
    now = datetime(2023, 1, 25, 12, tzinfo=UTC)
    for store_id in ("a", "b", "c"):
        store = StoreFactory(id=store_id)
        for hours in range(5):
            PollFactory(store=store, timestamp_utc=now - timedelta(hours=hours, microseconds=hours))
    PollFactory(store_id="a", timestamp_utc=now - timedelta(days=8))  # before the week

    out = io.StringIO()
    call_command("bench_fetch", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("fetch 15 polls: epoch integers ")
    assert re.fullmatch(
        r"the week's polls in 1 chunks of [\d,]+ stores, into per-store lists:"
        r" a row per poll [\d.]+ s \(15 polls\), arrays per store [\d.]+ s \(15 polls\)",
        lines[1],
    ), lines[1]
