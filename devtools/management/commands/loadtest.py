"""``manage.py loadtest``: drive the service on loopback with polls, downloads and triggers; report latency and errors.

Bounded by design: a fixed number of clients (coroutines on one event loop),
a fixed duration, and a cap on requests. Only loopback addresses are accepted as targets.

Each client has one role and pauses between its calls, as real clients do
(a poller asks about its report about once a second):

* **pollers** ``GET /get_report`` of the latest report triggered (the JSON
  status while it runs, the CSV once Complete);
* **downloaders** ``GET /reports/<id>/download`` of a complete report;
* **triggers** ``POST /trigger_report`` while the earlier reports compute.

Before the clock starts, one report is triggered and waited for, so the
downloaders have a CSV from the first second. ``--serve-gunicorn N`` starts
the production stack itself on this process's database: gunicorn with N sync
workers and ``DEBUG=0``, and a qcluster beside it; both are stopped at the
end. A 429 is a throttled call answered as it should be; a 503 that carries
``Retry-After`` is backpressure (the service refusing more work), not a
fault; any other 5xx, and any connection error, fails the command.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

MAX_REQUESTS = 500_000
KINDS = ("poll", "download", "trigger")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    #: The 2xx answers' latencies alone: a 429 costs the server little and would flatter the percentiles.
    answered: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: {kind: Counter() for kind in KINDS})
    backpressure: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    report_ids: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, status: int) -> None:
        self.latencies[kind].append(seconds)
        if 200 <= status < 300:
            self.answered[kind].append(seconds)
        self.statuses[kind][status] += 1

    @property
    def total(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    def count(self, predicate: Any) -> int:
        return sum(n for counter in self.statuses.values() for status, n in counter.items() if predicate(status))


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@contextlib.contextmanager
def production_stack(workers: int, log_dir: str, worker_nice: int) -> Iterator[str]:
    """gunicorn (``workers`` sync workers, DEBUG=0) and a qcluster on this process's database; yields the URL.

    The qcluster runs at ``worker_nice``, as the README's worker unit does: its
    shards are CPU-bound, and on a shared box they would otherwise take the
    cores the web workers need to answer within milliseconds.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database_url = f"sqlite:///{database['NAME']}"
    else:
        database_url = os.environ.get("DATABASE_URL", "")
    suite_only = {"DJANGO_SETTINGS_MODULE", "DEBUG", "LOOPMONITOR_DEVTOOLS", "SECRET_KEY", "ALLOWED_HOSTS"}
    metrics_dir = os.path.join(log_dir, "prometheus")
    os.makedirs(metrics_dir, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in suite_only} | {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),  # one key for both: django-q2 signs tasks with it
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }
    port = free_port()
    gunicorn_command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:loopmonitor.gunicorn_conf",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "loopmonitor.wsgi",
    ]
    processes = []
    with (
        open(os.path.join(log_dir, "gunicorn.log"), "wb") as web_log,
        open(os.path.join(log_dir, "qcluster.log"), "wb") as worker_log,
    ):
        worker_command = ["nice", "-n", str(worker_nice), sys.executable, "manage.py", "qcluster"]
        for command, log in ((gunicorn_command, web_log), (worker_command, worker_log)):
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise CommandError(f"the production stack did not start; see the logs in {log_dir}")
            time.sleep(0.2)
        yield url
    finally:
        for process in processes:
            _stop(process)


class Command(BaseCommand):
    help = "Load-test the service on loopback: get_report pollers, downloaders and triggers, for a bounded time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="a loopback base URL")
        parser.add_argument("--token", required=True, help="an API token (manage.py demo_user prints one)")
        parser.add_argument("--pollers", type=int, default=70)
        parser.add_argument("--downloaders", type=int, default=20)
        parser.add_argument("--triggers", type=int, default=10)
        parser.add_argument("--seconds", type=float, default=60.0)
        parser.add_argument(
            "--pause", type=float, default=1.0, help="seconds between one poller's or downloader's calls"
        )
        parser.add_argument("--trigger-pause", type=float, default=5.0, help="seconds between one client's triggers")
        parser.add_argument(
            "--serve-gunicorn",
            type=int,
            metavar="WORKERS",
            help="start gunicorn with this many workers (DEBUG=0) and a qcluster on this database, instead of --url",
        )
        parser.add_argument("--worker-nice", type=int, default=10, help="the qcluster's nice level (--serve-gunicorn)")
        parser.add_argument("--log-dir", help="keep gunicorn's and the qcluster's logs here (--serve-gunicorn)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["seconds"] <= 600:
            raise CommandError("--seconds must be in (0, 600]")
        if options["serve_gunicorn"]:
            # A SIGTERM (`timeout`, a CI runner) unwinds like Ctrl-C, so the stack below is stopped, not orphaned.
            previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
            with contextlib.ExitStack() as stack:
                stack.callback(signal.signal, signal.SIGTERM, previous)
                log_dir = options["log_dir"] or stack.enter_context(tempfile.TemporaryDirectory(prefix="loadtest-"))
                os.makedirs(log_dir, exist_ok=True)
                url = stack.enter_context(production_stack(options["serve_gunicorn"], log_dir, options["worker_nice"]))
                self.stdout.write(f"gunicorn ({options['serve_gunicorn']} workers, DEBUG=0) and a qcluster at {url}")
                self._run(url, options)
        else:
            self._run(options["url"].rstrip("/"), options)

    def _run(self, base: str, options: dict[str, Any]) -> None:
        if not is_loopback(base):
            raise CommandError(f"{base} is not a loopback address; this command only targets this machine")
        tally, elapsed, clients = asyncio.run(self._drive(base, options))
        self._print(tally, elapsed, clients)
        server_errors = tally.count(lambda status: status >= 500) - tally.backpressure
        if server_errors or tally.errors:
            raise CommandError(f"{server_errors} 5xx responses, {sum(tally.errors.values())} connection errors")

    async def _drive(self, base: str, options: dict[str, Any]) -> tuple[Tally, float, int]:
        """All clients as coroutines on one event loop: one thread, so no client waits on another for the GIL.

        A hundred client threads measured their own contention: a thread whose
        response had arrived waited for the interpreter lock before it could
        read it, which added up to tens of milliseconds to a 700 kB CSV.
        """
        tally = Tally()
        headers = {"Authorization": f"Token {options['token']}", "Accept": "application/json"}
        # Every call on a new connection, as gunicorn's sync workers close each one.
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(base, connector=connector, timeout=timeout, headers=headers) as session:

            async def call(kind: str, method: str, path: str) -> tuple[int, bytes]:
                started = time.perf_counter()
                try:
                    async with session.request(method, path) as response:
                        body = await response.read()
                        tally.record(kind, time.perf_counter() - started, response.status)
                        if response.status == 503 and response.headers.get("Retry-After"):
                            tally.backpressure += 1
                        return response.status, body
                except (aiohttp.ClientError, TimeoutError) as error:
                    tally.errors[type(error).__name__] += 1
                return 0, b""

            async def trigger() -> str | None:
                # fresh: every trigger computes (the data does not change during the test, so an equal one would not)
                status, body = await call("trigger", "POST", "/trigger_report?fresh=1")
                if status in (200, 202) and body:
                    report_id = str(json.loads(body)["report_id"])
                    tally.report_ids.append(report_id)
                    return report_id
                return None

            complete = await self._warm_up(session, trigger)
            deadline = time.monotonic() + options["seconds"]

            def running() -> bool:
                return time.monotonic() < deadline and tally.total < MAX_REQUESTS

            async def pause_for(seconds: float) -> None:
                await asyncio.sleep(max(0.0, min(seconds, deadline - time.monotonic())))

            async def client(pause: float, work: Callable[[], Awaitable[object]]) -> None:
                await pause_for(random.uniform(0, pause))
                while running():
                    await work()
                    await pause_for(pause)

            def poll() -> Awaitable[object]:
                return call("poll", "GET", f"/get_report?report_id={tally.report_ids[-1]}")

            def download() -> Awaitable[object]:
                return call("download", "GET", f"/reports/{complete}/download")

            clients = [client(options["trigger_pause"], trigger) for _ in range(options["triggers"])]
            clients += [client(options["pause"], poll) for _ in range(options["pollers"])]
            clients += [client(options["pause"], download) for _ in range(options["downloaders"])]
            started = time.perf_counter()
            await asyncio.gather(*clients)
            return tally, time.perf_counter() - started, len(clients)

    async def _warm_up(self, session: aiohttp.ClientSession, trigger: Callable[[], Awaitable[str | None]]) -> str:
        """Trigger one report and wait until it is Complete (not timed): the downloaders' CSV."""
        report_id = await trigger()
        if report_id is None:
            raise CommandError("the warm-up trigger failed (are there polls? is the token right?)")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            async with session.get(f"/get_report?report_id={report_id}&format=json") as response:
                answer, body = response.status, await response.read()
                retry_after = float(response.headers.get("Retry-After", "1"))
            if answer == 429:  # an earlier run spent this window's calls
                await asyncio.sleep(retry_after)
                continue
            if answer != 200:
                raise CommandError(f"polling the warm-up report {report_id} answered {answer}: {body[:200]!r}")
            status = json.loads(body)["status"]
            if status == "Complete":
                return report_id
            if status == "Failed":
                raise CommandError(f"the warm-up report {report_id} failed")
            await asyncio.sleep(1)
        raise CommandError(f"the warm-up report {report_id} was not Complete within 600 s")

    def _print(self, tally: Tally, elapsed: float, clients: int) -> None:
        self.stdout.write(
            f"{clients} clients for {elapsed:.1f} s: {tally.total} requests, {tally.total / elapsed:.0f} req/s"
        )
        for kind in KINDS:
            values = tally.latencies[kind]
            if values:
                self.stdout.write(
                    f"  {kind:<8} n={len(values):<6} mean {statistics.mean(values) * 1000:.0f} ms  "
                    f"p50 {percentile(values, 0.5) * 1000:.0f} ms  p95 {percentile(values, 0.95) * 1000:.0f} ms  "
                    f"p99 {percentile(values, 0.99) * 1000:.0f} ms  "
                    f"statuses {dict(sorted(tally.statuses[kind].items()))}"
                )
            answered = tally.answered[kind]
            if answered:
                self.stdout.write(
                    f"  {'':<8} 2xx only n={len(answered):<6} p50 {percentile(answered, 0.5) * 1000:.0f} ms  "
                    f"p95 {percentile(answered, 0.95) * 1000:.0f} ms  p99 {percentile(answered, 0.99) * 1000:.0f} ms"
                )
        server_errors = tally.count(lambda status: status >= 500) - tally.backpressure
        self.stdout.write(
            f"  5xx {server_errors}  backpressure 503 {tally.backpressure}  "
            f"429 {tally.count(lambda status: status == 429)}  connection errors {dict(tally.errors) or 0}"
        )
