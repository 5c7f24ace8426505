"""``manage.py bench_period``: a period report against the 7-day reports on the same data, time and peak RSS.

Generates ``--days`` days of polls over the stores at ``--scale`` (1x: the
~13.6k real stores, about 7M polls in 30 days), loads them into a fresh
benchmark database (reused with ``--reuse``), then runs, each in its own
``manage.py build_report`` process and ``--runs`` times (the best counts):
the fixed report (its week), the period report of the last 7 days, and the
period report of the last ``--period-days`` days, all ending at the latest
poll. Prints wall time, peak RSS, rows, and the long period's time over each
7-day report's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandParser

from devtools.benchmarking import (
    BenchmarkCommand,
    BenchmarkError,
    Measured,
    dataset,
    fresh_database,
    load_dataset,
    machine,
    manage,
)

DEFAULT_PERIOD_BENCH_URL = "postgres://postgres@127.0.0.1:5432/loopmonitor_bench_period"


class Command(BenchmarkCommand):
    help = "Time a long period report against the fixed and 7-day period reports on the same data (own processes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--days", type=int, default=30, help="days of generated polls")
        parser.add_argument("--period-days", type=int, default=30, help="the long period measured")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--runs", type=int, default=3, help="runs of each report; the best is reported")
        parser.add_argument("--database-url", default=DEFAULT_PERIOD_BENCH_URL)
        parser.add_argument("--reuse", action="store_true", help="keep the database loaded by an earlier run")

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        self.stdout.write(f"machine: {machine()}")
        if not options["reuse"]:
            data = dataset(options["scale"], options["seed"], None, days=options["days"])
            fresh_database(url)
            polls = load_dataset(data, database_url=url)
            self.stdout.write(f"loaded {polls:,} polls ({options['days']} days, scale {options['scale']:g})")
        fixed = self._best(["build_report", "--output", "/dev/null"], url, options["runs"])
        found = re.search(r"now=(\S+),", fixed.stderr)
        if found is None:
            raise BenchmarkError(f"unexpected build_report output: {fixed.stderr[-500:]}")
        now = datetime.fromisoformat(found.group(1))

        def period(days: int) -> Measured:
            start = (now - timedelta(days=days)).isoformat()
            args = [
                "build_report",
                "--start",
                start,
                "--end",
                now.isoformat(),
                "--sla",
                "99.5",
                "--output",
                "/dev/null",
            ]
            return self._best(args, url, options["runs"])

        week = period(7)
        long = period(options["period_days"])
        self.stdout.write(f"now = {now.isoformat()}")
        self.stdout.write(f"{'report':<22} {'rows':>7} {'wall s':>7} {'peak RSS MB':>12}")
        for name, run in (
            ("fixed (week)", fixed),
            ("period 7 days", week),
            (f"period {options['period_days']} days", long),
        ):
            self.stdout.write(f"{name:<22} {_rows(run):>7,} {run.seconds:>7.2f} {run.peak_rss_mb:>12.0f}")
        self.stdout.write(
            f"{options['period_days']}-day period / fixed report: {long.seconds / fixed.seconds:.2f}x; "
            f"/ 7-day period report: {long.seconds / week.seconds:.2f}x"
        )

    @staticmethod
    def _best(args: list[str], url: str, runs: int) -> Measured:
        measured = [manage(args, database_url=url) for _ in range(max(1, runs))]
        return min(measured, key=lambda run: run.seconds)


def _rows(run: Measured) -> int:
    found = re.search(r"report: (\d+) rows", run.stderr)
    return int(found.group(1)) if found else -1
