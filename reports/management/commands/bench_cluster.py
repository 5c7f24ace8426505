"""``manage.py bench_cluster``: trigger-to-Complete over HTTP with 1, 2, … django-q2 workers.

For each scale, loads generated data into a fresh PostgreSQL benchmark
database once, times ``build_report`` on it, then for each worker count
starts a real web server and a real ``qcluster`` (each its own process, as
in production), triggers a report over HTTP and polls until Complete. Peak
RSS is sampled for every process of the cluster; the largest is reported.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import psutil
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from loopmonitor.benchmarking import DEFAULT_BENCH_URL, BenchmarkError, dataset, fresh_database, machine, manage

FILES = (("timezones", "timezones.csv"), ("hours", "menu_hours.csv"), ("polls", "store_status.csv"))
COMPLETE_TIMEOUT = 900.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeakRss:
    """Samples the RSS of a process tree in a thread; keeps each process's peak."""

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def max_mb(self) -> float:
        return max(self.peaks.values(), default=0) / 1024**2


def request(url: str, token: str, method: str = "GET") -> tuple[int, bytes]:
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, method=method, headers=headers), timeout=60) as answer:
        return answer.status, answer.read()


def wait_until_serving(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise BenchmarkError(f"the web server at {url} did not start")


class Command(BaseCommand):
    help = "Measure trigger-to-Complete over HTTP with several worker counts against build_report's time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL + "_cluster")
        parser.add_argument("--shard-size", type=int, default=settings.REPORT_SHARD_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._run(options)
        except BenchmarkError as error:
            raise CommandError(str(error)) from None

    def _run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        if not url.startswith("postgres"):
            raise BenchmarkError("bench_cluster measures PostgreSQL: give a postgres:// --database-url")
        data = dataset(options["scale"], options["seed"], None)
        self.stdout.write(f"machine: {machine()}")
        fresh_database(url)
        load = manage(["ingest", *(f"--{kind}={data / name}" for kind, name in FILES)], database_url=url)
        polls = int(re.search(r"polls: (\d+) read", load.stdout).group(1))  # type: ignore[union-attr]
        token = re.search(r"API token\s+(\w+)", manage(["demo_user"], database_url=url).stdout).group(1)  # type: ignore[union-attr]
        single = manage(["build_report", "--output", os.devnull], database_url=url)
        self.stdout.write(
            f"scale {options['scale']:g}: {polls:,} polls; build_report {single.seconds:.2f} s, "
            f"peak RSS {single.peak_rss_mb:.0f} MB; shard size {options['shard_size']}"
        )
        self.stdout.write(
            f"{'workers':>7} {'trigger→Complete s':>19} {'× build_report':>15} {'speed-up':>9} "
            f"{'peak worker RSS MB':>19}"
        )
        first: float | None = None
        for workers in (int(count) for count in options["workers"].split(",")):
            seconds, peak = self._one_run(url, token, workers, options["shard_size"])
            first = first or seconds
            self.stdout.write(
                f"{workers:>7} {seconds:>19.2f} {seconds / single.seconds:>15.2f} {first / seconds:>9.2f} {peak:>19.0f}"
            )

    def _one_run(self, database_url: str, token: str, workers: int, shard_size: int) -> tuple[float, float]:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "Q_WORKERS": str(workers),
            "REPORT_SHARD_SIZE": str(shard_size),
            "PYTHONWARNINGS": "ignore",
        }
        manage_py = str(settings.BASE_DIR / "manage.py")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        server = subprocess.Popen([sys.executable, manage_py, "runserver", "--noreload", f"127.0.0.1:{port}"], **quiet)
        cluster = subprocess.Popen([sys.executable, manage_py, "qcluster"], start_new_session=True, **quiet)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(f"{base}/get_report", time.monotonic() + 60)
            time.sleep(3)  # let the cluster's workers start
            with PeakRss(psutil.Process(cluster.pid)) as rss:
                started = time.perf_counter()
                _, body = request(f"{base}/trigger_report", token, method="POST")
                report_id = json.loads(body)["report_id"]
                while True:
                    _, body = request(f"{base}/get_report?report_id={report_id}&format=json", token)
                    state = json.loads(body)
                    if state["status"] != "Running":
                        break
                    if time.perf_counter() - started > COMPLETE_TIMEOUT:
                        raise BenchmarkError(f"report not complete after {COMPLETE_TIMEOUT:.0f} s")
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
            if state["status"] != "Complete":
                raise BenchmarkError(f"report ended {state['status']}: {state.get('error')}")
            return seconds, rss.max_mb
        finally:
            server.terminate()
            os.killpg(cluster.pid, signal.SIGTERM)
            for process in (server, cluster):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
