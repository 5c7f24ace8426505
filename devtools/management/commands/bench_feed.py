"""``manage.py bench_feed``: the hourly feed's speed targets, each step its own process on a fresh database.

Measures, on a 1x dataset: the timezones and hours files (first load and
repeat, the command's own time); the full polls file through the command
and through the API's worker path (a 202, then the worker), both into an
empty polls table; an hourly batch of one poll per store over HTTP (server
time, in-request); and pruning the oldest day of polls.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from devtools.benchmarking import DEFAULT_BENCH_URL, BenchmarkCommand, dataset, fresh_database, machine, manage

EMPTY_POLLS = "from django.db import connection; connection.cursor().execute('TRUNCATE stores_poll')"


def _seconds(summary: str) -> float:
    return float(re.search(r"in ([\d.]+) s", summary).group(1))  # type: ignore[union-attr]


class Command(BenchmarkCommand):
    help = "Time the hourly feed's targets (hours/timezones COPY, polls via API vs command, hourly HTTP batch, prune)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--data", type=Path, help="an existing generated dataset directory")
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL.replace("bench", "bench_feed"))

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        data = dataset(options["scale"], options["seed"], options["data"])
        self.stdout.write(f"machine: {machine()}")
        self.stdout.write(f"data: {data}; database: {url.rsplit('@', 1)[-1]}")
        fresh_database(url)
        for kind, name in (("timezones", "timezones.csv"), ("hours", "menu_hours.csv")):
            for label in ("first", "repeat"):
                measured = manage(["ingest", f"--{kind}", str(data / name)], database_url=url)
                summary = measured.stdout.strip().splitlines()[-1]
                self.stdout.write(f"{kind} {label}: {_seconds(summary):.2f} s ({summary})")
        polls = data / "store_status.csv"
        command = manage(["ingest", "--polls", str(polls)], database_url=url)
        command_seconds = _seconds(command.stdout.strip().splitlines()[-1])
        self.stdout.write(f"polls via the command: {command_seconds:.2f} s (process {command.seconds:.1f} s)")
        manage(["shell", "-c", EMPTY_POLLS], database_url=url)
        api = manage(["feed_upload", "polls", str(polls)], database_url=url)
        api_line = api.stdout.strip().splitlines()[-1]
        api_seconds = float(re.search(r"total ([\d.]+) s", api_line).group(1))  # type: ignore[union-attr]
        self.stdout.write(
            f"polls via the API worker path: {api_seconds:.2f} s = {api_seconds / command_seconds:.2f}x "
            f"the command ({api_line})"
        )
        batches = settings.VAR_DIR / "bench"
        hourly = self._one_poll_per_store(data, batches / "hourly-per-store.csv", hours_later=1)
        for label, batch, cold in (
            ("hourly batch", hourly, []),
            ("same batch again", hourly, []),
            ("the next hour's batch as a fresh process's first request", None, ["--cold"]),
        ):
            path = batch or self._one_poll_per_store(data, batches / "hourly-per-store-2.csv", hours_later=2)
            line = manage(["feed_upload", "polls", str(path), *cold], database_url=url).stdout.strip().splitlines()[-1]
            self.stdout.write(f"{label} over HTTP: {line}")
        prune = manage(["prune", "--poll-days", "6"], database_url=url)
        self.stdout.write(f"prune the oldest day: {prune.stdout.strip()}")

    @staticmethod
    def _one_poll_per_store(data: Path, target: Path, *, hours_later: int) -> Path:
        """One poll for every store ``hours_later`` after the file's latest poll: an hourly feed's batch."""
        latest = datetime.min
        with (data / "store_status.csv").open(newline="") as handle:
            reader = csv.reader(handle)
            column = next(reader).index("timestamp_utc")
            for row in reader:
                latest = max(latest, datetime.fromisoformat(row[column].removesuffix(" UTC")))
        with (data / "timezones.csv").open(newline="") as handle:
            stores = [row[0] for row in list(csv.reader(handle))[1:]]
        moment = f"{latest + timedelta(hours=hours_later):%Y-%m-%d %H:%M:%S.%f} UTC"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["store_id", "status", "timestamp_utc"])
            writer.writerows((store, "active", moment) for store in stores)
        return target
