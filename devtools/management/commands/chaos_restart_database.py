"""``manage.py chaos_restart_database``: restart PostgreSQL in the middle of a report and check everything recovers.

Starts a real web server and a two-worker ``qcluster`` on a benchmark
database, triggers a report, waits until a worker has claimed a shard, and
restarts the whole PostgreSQL server (``pg_ctlcluster … restart``: every
connection of every process is cut). A client keeps polling all along. The
report must end Complete with exactly ``build_report``'s CSV, the web server
must answer 200 again by itself, and a second report triggered afterwards
must complete too (the workers reconnected); anything else makes the
command fail. It restarts the server for every database on it, so run it
only where that is acceptable; ``--cut-connections-only`` instead ends every
connection to the benchmark database alone (``pg_terminate_backend``), the
same cut for this service without touching anyone else's.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future
from pathlib import Path
from typing import Any

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


def restart_command() -> list[str]:
    """``pg_ctlcluster`` for the one cluster of this machine's Debian-style PostgreSQL install."""
    versions = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    if len(versions) != 1:
        raise BenchmarkError(f"expected one PostgreSQL version in /etc/postgresql, found {versions}")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"]


class Command(BenchmarkCommand):
    help = "Restart PostgreSQL mid-report; the report must complete correctly and every process reconnect."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL + "_chaos")
        parser.add_argument("--reuse", action="store_true", help="keep the data already in the database")
        parser.add_argument("--timeout", type=float, default=600.0)
        parser.add_argument(
            "--cut-connections-only",
            action="store_true",
            help="terminate every connection to the benchmark database instead of restarting the server",
        )

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        if not options["reuse"]:
            fresh_database(url)
            load_dataset(dataset(options["scale"], options["seed"], None), database_url=url)
        token = demo_token(database_url=url)
        with RunningService(url, {"Q_WORKERS": "2"}) as service:
            started = time.perf_counter()
            report_id = service.trigger(token)
            polled = self._poll_in_background(service, token, report_id, options["timeout"])
            self._wait_for_a_claimed_shard(url, report_id, options["timeout"])
            restart_began = time.perf_counter()
            if options["cut_connections_only"]:
                cut = self._cut_connections(url)
                restarted = time.perf_counter()
                self.stdout.write(f"{cut} connections to the database terminated while a shard was running")
            else:
                subprocess.run(restart_command(), check=True, capture_output=True, timeout=120)
                restarted = time.perf_counter()
                self.stdout.write(
                    f"PostgreSQL restarted in {restarted - restart_began:.1f} s while a shard was running"
                )
            state, errors = polled.result(timeout=options["timeout"])
            finished = time.perf_counter()
            self.stdout.write(
                f"report {report_id}: {state['status']} {finished - restarted:.1f} s after the restart "
                f"({finished - started:.1f} s after the trigger); {errors}"
            )
            if state["status"] != "Complete":
                raise BenchmarkError(f"the report ended {state['status']}: {state.get('error')}")
            api_csv = service.download(token, report_id)
            second_started = time.perf_counter()
            second = service.wait_until_finished(token, service.trigger(token), options["timeout"])
            self.stdout.write(
                f"a report triggered after the restart: {second['status']} "
                f"in {time.perf_counter() - second_started:.1f} s"
            )
            if second["status"] != "Complete":
                raise BenchmarkError(f"the report after the restart ended {second['status']}: {second.get('error')}")
        if api_csv != build_report_csv(url, state["as_of"]):
            raise BenchmarkError("the report's CSV differs from build_report's for the same as_of")
        self.stdout.write(f"CSV equal to build_report's ({api_csv.count(chr(10)) - 1} rows): yes")

    def _cut_connections(self, url: str) -> int:
        with psycopg.connect(url, autocommit=True) as database:
            rows = database.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return len(rows)

    def _wait_for_a_claimed_shard(self, url: str, report_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with psycopg.connect(url, autocommit=True) as database:
            while time.monotonic() < deadline:
                claimed = database.execute(
                    "SELECT 1 FROM reports_reportshard WHERE report_id = %s AND status = 'running'", [report_id]
                ).fetchone()
                if claimed:
                    return
                time.sleep(0.01)
        raise BenchmarkError("no shard was claimed in time")

    def _poll_in_background(
        self, service: RunningService, token: str, report_id: str, timeout: float
    ) -> Future[tuple[dict[str, Any], str]]:
        """:meth:`_poll_through_outage` on a thread, from the trigger on, so it polls during the restart too."""
        polled: Future[tuple[dict[str, Any], str]] = Future()

        def poll() -> None:
            try:
                polled.set_result(self._poll_through_outage(service, token, report_id, timeout))
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
                polled.set_exception(error)

        threading.Thread(target=poll, daemon=True).start()
        return polled

    def _poll_through_outage(
        self, service: RunningService, token: str, report_id: str, timeout: float
    ) -> tuple[dict[str, Any], str]:
        """Poll like a client until the report is finished; answers other than 200 are counted, not fatal."""
        failures: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        while time.monotonic() < deadline:
            request = urllib.request.Request(
                f"{service.base}/get_report?report_id={report_id}&format=json", headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    state: dict[str, Any] = json.loads(answer.read())
                if state["status"] != "Running":
                    seen = ", ".join(f"{count} x {kind}" for kind, count in failures.items()) or "none"
                    return state, f"polls answered other than 200 during the outage: {seen}"
            except urllib.error.HTTPError as error:
                kind = f"{error.code} {error.headers.get_content_type()}"
                failures[kind] = failures.get(kind, 0) + 1
            except OSError as error:
                failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
            time.sleep(0.1)
        raise BenchmarkError(f"report {report_id} still Running after {timeout:.0f} s")
