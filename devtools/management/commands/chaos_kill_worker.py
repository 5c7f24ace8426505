"""``manage.py chaos_kill_worker``: kill -9 a worker in the middle of a report and check the result.

Starts a real web server and a two-worker ``qcluster`` on a benchmark
database, triggers a report, waits until a worker has claimed a shard, and
kills that worker's process with SIGKILL. The report must then either
complete with exactly ``build_report``'s CSV or end Failed with a reason;
anything else (stuck, wrong numbers, or Complete later than ``--within``
seconds after the kill) makes the command fail. The service runs with the
default settings (shards of ``REPORT_SHARD_SIZE``, the default lease) unless
``--lease`` is given.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import psutil
import psycopg
from django.core.management.base import CommandParser

from devtools.benchmarking import (
    DEFAULT_BENCH_URL,
    BenchmarkCommand,
    BenchmarkError,
    RunningService,
    build_report_csv,
    dataset,
    demo_token,
    fresh_database,
    load_dataset,
)


class Command(BenchmarkCommand):
    help = "Kill -9 a django-q2 worker mid-report; the report must complete correctly or fail with a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL + "_chaos")
        parser.add_argument("--reuse", action="store_true", help="keep the data already in the database")
        parser.add_argument("--lease", type=int, help="REPORT_SHARD_LEASE_SECONDS for the run (default: the setting's)")
        parser.add_argument("--within", type=float, default=30.0, help="seconds from the kill to Complete, at most")
        parser.add_argument("--timeout", type=float, default=600.0)

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        if not options["reuse"]:
            data = dataset(options["scale"], options["seed"], None)
            fresh_database(url)
            load_dataset(data, database_url=url)
        token = demo_token(database_url=url)
        env = {"Q_WORKERS": "2"}
        if options["lease"] is not None:
            env["REPORT_SHARD_LEASE_SECONDS"] = str(options["lease"])
        with RunningService(url, env) as service, psycopg.connect(url, autocommit=True) as database:
            started = time.perf_counter()
            report_id = service.trigger(token)
            victim, shard = self._kill_a_shard_worker(database, report_id, service.cluster.pid, options["timeout"])
            killed = time.perf_counter()
            self.stdout.write(f"killed worker pid {victim} (SIGKILL) while it ran shard {shard}")
            state = service.wait_until_finished(token, report_id, options["timeout"])
            finished = time.perf_counter()
            self.stdout.write(
                f"report {report_id}: {state['status']} {finished - killed:.1f} s after the kill "
                f"({finished - started:.1f} s after the trigger)"
            )
            if state["status"] == "Failed":
                if not state.get("error"):
                    raise BenchmarkError("the report failed without a reason")
                self.stdout.write(f"failed with a reason: {state['error']}")
                return
            api_csv = service.download(token, report_id)
            attempts = database.execute(
                "SELECT index, attempts FROM reports_reportshard WHERE report_id = %s AND attempts > 1", [report_id]
            ).fetchall()
        expected = build_report_csv(url, state["as_of"])
        self.stdout.write(f"shards run more than once: {attempts}")
        if api_csv != expected:
            raise BenchmarkError("the report's CSV differs from build_report's for the same as_of")
        if finished - killed > options["within"]:
            raise BenchmarkError(
                f"Complete {finished - killed:.1f} s after the kill, more than {options['within']:g} s"
            )
        self.stdout.write(f"CSV equal to build_report's ({api_csv.count(chr(10)) - 1} rows): yes")

    def _kill_a_shard_worker(
        self, database: psycopg.Connection[Any], report_id: str, cluster_pid: int, timeout: float
    ) -> tuple[int, int]:
        family = {process.pid for process in psutil.Process(cluster_pid).children(recursive=True)}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = database.execute(
                "SELECT claimed_by, index FROM reports_reportshard WHERE report_id = %s AND status = 'running' "
                "ORDER BY claimed_at LIMIT 1",
                [report_id],
            ).fetchone()
            if row is not None:
                pid = int(row[0].rsplit(":", 1)[1])
                if pid not in family:
                    raise BenchmarkError(f"shard claimed by pid {pid}, which is not a process of this cluster")
                os.kill(pid, signal.SIGKILL)
                return pid, int(row[1])
            time.sleep(0.01)
        raise BenchmarkError("no shard was claimed in time")
