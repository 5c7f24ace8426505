"""``manage.py bench_report``: wall time and peak RSS of ``build_report`` at several scales."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import CommandParser

from devtools.benchmarking import (
    DEFAULT_BENCH_URL,
    BenchmarkCommand,
    BenchmarkError,
    dataset,
    fresh_database,
    load_dataset,
    machine,
    manage,
)


def _bench_url(base: str, scale: float) -> str:
    """One database per scale (``…_bench_s0_25``), so reruns can skip the load."""
    return f"{base}_s{str(scale).replace('.', '_')}" if not base.startswith("sqlite") else base


class Command(BenchmarkCommand):
    help = (
        "For each scale: generate data, load it into a fresh benchmark database, run build_report in its own "
        "process and print wall time, peak RSS, polls and time per million polls (linearity)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scales", default="0.25,0.5,1", help="comma-separated dataset scales")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--runs", type=int, default=3, help="build_report runs per scale; the best is reported")
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL, help="base name; one database per scale")
        parser.add_argument("--compare-fetch", action="store_true", help="also time both ways of reading instants")

    def run(self, options: dict[str, Any]) -> None:
        try:
            scales = [float(scale) for scale in options["scales"].split(",")]
        except ValueError:
            raise BenchmarkError(f"--scales {options['scales']!r} is not a list of numbers") from None
        self.stdout.write(f"machine: {machine()}")
        self.stdout.write(
            f"{'scale':>6} {'polls':>10} {'stores':>7} {'wall s':>7} {'s/M polls':>10} {'peak RSS MB':>12}"
        )
        for scale in scales:
            url = _bench_url(options["database_url"], scale)
            data = dataset(scale, options["seed"], None)
            fresh_database(url)
            polls = load_dataset(data, database_url=url)
            best = None
            for _ in range(options["runs"]):
                run = manage(["build_report", "--output", "/dev/null"], database_url=url)
                if best is None or run.seconds < best.seconds:
                    best = run
            assert best is not None
            rows = int(re.search(r"report: (\d+) rows", best.stderr).group(1))  # type: ignore[union-attr]
            self.stdout.write(
                f"{scale:>6g} {polls:>10,} {rows:>7,} {best.seconds:>7.2f} {best.seconds / polls * 1e6:>10.2f} "
                f"{best.peak_rss_mb:>12.0f}"
            )
            if options["compare_fetch"]:
                self.stdout.write("  " + manage(["bench_fetch"], database_url=url).stdout.strip())
