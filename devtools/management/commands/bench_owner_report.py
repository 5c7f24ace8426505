"""``manage.py bench_owner_report``: an owner's report, trigger to Complete over HTTP, many times.

Loads generated data into a fresh PostgreSQL benchmark database (or reuses
it), gives ``--stores`` stores spread over the id range to one organization
with an owner, then starts a real web server and a real one-worker
``qcluster`` (default ``Q_POLL``) and, ``--repeat`` times, triggers the
owner's report and polls ``get_report`` every ``--poll-interval`` seconds
until Complete. Prints p50/p95/max of trigger→Complete and of the trigger
request alone, and checks each CSV has one row per store of the organization
that has a poll in the week.
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from typing import Any

import psycopg
from django.core.management.base import CommandParser

from devtools.benchmarking import (
    DEFAULT_BENCH_URL,
    BenchmarkCommand,
    BenchmarkError,
    RunningService,
    benchmark_database_name,
    dataset,
    fresh_database,
    load_dataset,
    machine,
    manage,
)

ORGANIZATION = "bench-owner"
OWNER = "bench-owner"
CLEAR_QUEUE = "DELETE FROM django_q_ormq"


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Command(BenchmarkCommand):
    help = "Measure an organization's report (default 50 stores), trigger to Complete over HTTP, with one worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--stores", type=int, default=50, help="stores of the organization")
        parser.add_argument("--repeat", type=int, default=30, help="reports triggered one after the other")
        parser.add_argument("--poll-interval", type=float, default=0.01, help="seconds between get_report calls")
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL + "_owner")
        parser.add_argument("--reuse", action="store_true", help="keep the data already in the database")

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        if not url.startswith("postgres"):
            raise BenchmarkError("bench_owner_report measures PostgreSQL: give a postgres:// --database-url")
        self.stdout.write(f"machine: {machine()}")
        if options["reuse"]:
            benchmark_database_name(url, doing="reuse")
            manage(["migrate", "--no-input", "-v0"], database_url=url)
        else:
            fresh_database(url)
            load_dataset(dataset(options["scale"], options["seed"], None), database_url=url)
        manage(["add_member", ORGANIZATION, OWNER, "--role", "owner"], database_url=url)
        token_output = manage(["drf_create_token", OWNER], database_url=url).stdout
        found = re.search(r"token (\w+) for user", token_output)
        if found is None:
            raise BenchmarkError(f"drf_create_token printed no token: {token_output!r}")
        token = found.group(1)
        with psycopg.connect(url) as database:
            stores = self._assign(database, options["stores"])
            database.execute(CLEAR_QUEUE)
            database.execute(
                "UPDATE reports_report SET status = 'failed', error = 'left over from an earlier benchmark run' "
                "WHERE status IN ('pending', 'running')"
            )
        totals: list[float] = []
        triggers: list[float] = []
        with RunningService(url, {"Q_WORKERS": "1"}) as service:
            for _ in range(max(1, options["repeat"])):
                took, trigger, report_id = self._one_report(service, token, options["poll_interval"])
                totals.append(took)
                triggers.append(trigger)
                rows = service.download(token, report_id).count("\n") - 1
                if not 0 < rows <= stores:
                    raise BenchmarkError(f"report {report_id} has {rows} rows for an organization of {stores} stores")
        self.stdout.write(
            f"organization of {stores} stores ({rows} with a poll in the week), 1 worker, "
            f"{len(totals)} reports one after the other"
        )
        for label, values in (("trigger → Complete", totals), ("POST /trigger_report alone", triggers)):
            self.stdout.write(
                f"  {label:<27} p50 {percentile(values, 0.5) * 1000:6.0f} ms   "
                f"p95 {percentile(values, 0.95) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms   "
                f"mean {statistics.fmean(values) * 1000:6.0f} ms"
            )

    def _assign(self, database: psycopg.Connection[Any], count: int) -> int:
        """Give ``count`` stores, evenly spread over the sorted ids, to the organization; only they are its."""
        ids = [row[0] for row in database.execute("SELECT id FROM stores_store ORDER BY id")]
        if len(ids) < count:
            raise BenchmarkError(f"only {len(ids)} stores in the database")
        chosen = ids[:: len(ids) // count][:count]
        organization = database.execute(
            "SELECT id FROM organizations_organization WHERE slug = %s", [ORGANIZATION]
        ).fetchone()
        assert organization is not None
        database.execute("UPDATE stores_store SET organization_id = NULL WHERE organization_id = %s", organization)
        database.execute("UPDATE stores_store SET organization_id = %s WHERE id = ANY(%s)", [organization[0], chosen])
        return len(chosen)

    def _one_report(self, service: RunningService, token: str, interval: float) -> tuple[float, float, str]:
        started = time.perf_counter()
        report_id = service.trigger(token)
        triggered = time.perf_counter() - started
        deadline = started + 120
        while time.perf_counter() < deadline:
            state = service.call(f"/get_report?report_id={report_id}&format=json", token)
            if state["status"] == "Complete":
                return time.perf_counter() - started, triggered, report_id
            if state["status"] == "Failed":
                raise BenchmarkError(f"report {report_id} failed: {json.dumps(state)}")
            time.sleep(interval)
        raise BenchmarkError(f"report {report_id} still Running after 120 s")
