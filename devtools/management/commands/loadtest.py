"""``manage.py loadtest``: drive a running service on loopback and report throughput and latency.

Bounded by design: a fixed number of client threads, a fixed duration, and a
cap on requests. Only loopback addresses are accepted as targets.
"""

from __future__ import annotations

import ipaddress
import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

MAX_REQUESTS = 200_000


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"trigger": [], "poll": []})
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    report_ids: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[status] += 1

    @property
    def total(self) -> int:
        return sum(len(values) for values in self.latencies.values())


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


class Command(BaseCommand):
    help = "Load-test a running service on loopback: pollers of get_report and triggers, for a bounded time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="a loopback base URL")
        parser.add_argument("--token", required=True, help="an API token (manage.py demo_user prints one)")
        parser.add_argument("--pollers", type=int, default=50)
        parser.add_argument("--triggers", type=int, default=10)
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--trigger-pause", type=float, default=1.0, help="pause between one client's triggers")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["url"].rstrip("/")
        if not is_loopback(base):
            raise CommandError(f"{base} is not a loopback address; this command only targets this machine")
        if not 0 < options["seconds"] <= 600:
            raise CommandError("--seconds must be in (0, 600]")
        tally = Tally()
        headers = {"Authorization": f"Token {options['token']}", "Accept": "application/json"}
        deadline = time.monotonic() + options["seconds"]

        def call(kind: str, request: urllib.request.Request) -> bytes:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = response.read()
                    tally.record(kind, time.perf_counter() - started, response.status)
                    return bytes(body)
            except urllib.error.HTTPError as error:
                tally.record(kind, time.perf_counter() - started, error.code)
            except OSError as error:
                with tally.lock:
                    tally.errors[type(error).__name__] += 1
            return b""

        def trigger_loop() -> None:
            while time.monotonic() < deadline and tally.total < MAX_REQUESTS:
                body = call("trigger", urllib.request.Request(f"{base}/trigger_report", method="POST", headers=headers))
                if body:
                    with tally.lock:
                        tally.report_ids.append(json.loads(body)["report_id"])
                time.sleep(options["trigger_pause"])

        def poll_loop() -> None:
            while time.monotonic() < deadline and tally.total < MAX_REQUESTS:
                with tally.lock:
                    report_id = tally.report_ids[-1] if tally.report_ids else "x" * 22
                call("poll", urllib.request.Request(f"{base}/get_report?report_id={report_id}", headers=headers))

        threads = [threading.Thread(target=trigger_loop) for _ in range(options["triggers"])]
        threads += [threading.Thread(target=poll_loop) for _ in range(options["pollers"])]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        self._print(tally, elapsed, options)
        server_errors = sum(count for status, count in tally.statuses.items() if status >= 500)
        if server_errors or tally.errors:
            raise CommandError(f"{server_errors} 5xx responses, {sum(tally.errors.values())} connection errors")

    def _print(self, tally: Tally, elapsed: float, options: dict[str, Any]) -> None:
        self.stdout.write(
            f"{options['pollers']} pollers + {options['triggers']} triggers for {elapsed:.1f} s: "
            f"{tally.total} requests, {tally.total / elapsed:.0f} req/s"
        )
        for kind, values in tally.latencies.items():
            if values:
                self.stdout.write(
                    f"  {kind:<8} n={len(values):<6} mean {statistics.mean(values) * 1000:.0f} ms  "
                    f"p50 {percentile(values, 0.5) * 1000:.0f} ms  p95 {percentile(values, 0.95) * 1000:.0f} ms  "
                    f"p99 {percentile(values, 0.99) * 1000:.0f} ms"
                )
        self.stdout.write(f"  statuses {dict(sorted(tally.statuses.items()))}  connection errors {dict(tally.errors)}")
