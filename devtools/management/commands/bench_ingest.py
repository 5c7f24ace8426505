"""``manage.py bench_ingest``: time a first and a repeated load of a full-scale dataset."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from devtools.benchmarking import DEFAULT_BENCH_URL, BenchmarkCommand, dataset, fresh_database, machine, manage


class Command(BenchmarkCommand):
    help = (
        "Generate (or reuse) a dataset, load it into a fresh benchmark database twice, and print wall time, "
        "polls/s and peak RSS of each load. Never touches the service's own database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--data", type=Path, help="an existing generated dataset directory")
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL, help="dropped and recreated first")

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        data = dataset(options["scale"], options["seed"], options["data"])
        polls_file = data / "store_status.csv"
        polls = sum(1 for _ in polls_file.open("rb")) - 1
        self.stdout.write(f"machine: {machine()}")
        self.stdout.write(f"data: {data} ({polls:,} polls, {polls_file.stat().st_size / 1e6:.0f} MB)")
        self.stdout.write(f"database: {url.rsplit('@', 1)[-1]}")
        fresh_database(url)
        files = ["--timezones", str(data / "timezones.csv"), "--hours", str(data / "menu_hours.csv")]
        manage(["ingest", *files], database_url=url)
        hourly = self._next_hour(polls_file, settings.VAR_DIR / "bench" / "next-hour.csv")
        self.stdout.write(f"{'load':<8} {'wall s':>8} {'polls/s':>10} {'peak RSS MB':>12}  summary")
        for label, path in (("first", polls_file), ("repeat", polls_file), ("hourly", hourly)):
            polls = sum(1 for _ in path.open("rb")) - 1
            measured = manage(["ingest", "--polls", str(path)], database_url=url)
            summary = measured.stdout.strip().splitlines()[-1]
            took = float(re.search(r"in ([\d.]+) s", summary).group(1))  # type: ignore[union-attr]
            self.stdout.write(
                f"{label:<8} {measured.seconds:>8.1f} {polls / measured.seconds:>10,.0f} "
                f"{measured.peak_rss_mb:>12.0f}  {summary} (ingest itself {took:.1f} s)"
            )

    @staticmethod
    def _next_hour(polls_file: Path, target: Path) -> Path:
        """The file's last hour of polls moved one hour later: what arrives every hour in production.

        Streams the file twice (latest time, then the rows): this process's
        peak memory is inherited by the processes it starts and measures.
        """

        def rows() -> Iterator[tuple[list[str], datetime]]:
            with polls_file.open(newline="") as handle:
                reader = csv.reader(handle)
                column = next(reader).index("timestamp_utc")
                for row in reader:
                    yield row, datetime.fromisoformat(row[column].removesuffix(" UTC"))

        last = max(moment for _, moment in rows())
        with polls_file.open(newline="") as handle:
            header = next(csv.reader(handle))
        column = header.index("timestamp_utc")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row, moment in rows():
                if moment > last - timedelta(hours=1):
                    row[column] = f"{moment + timedelta(hours=1):%Y-%m-%d %H:%M:%S.%f} UTC"
                    writer.writerow(row)
        return target
