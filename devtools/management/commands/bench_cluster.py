"""``manage.py bench_cluster``: trigger-to-Complete over HTTP with 1, 2, … django-q2 workers.

Loads generated data into a fresh PostgreSQL benchmark database once, then
runs rounds: each times ``build_report`` on it, then for each worker count
starts a real web server and a real ``qcluster`` (each its own process, as
in production), triggers a report over HTTP and polls until Complete. A run
lasts from the trigger request to the report's ``finished_at``. Peak
RSS is sampled for every process of the cluster; the largest is reported.
Besides medians it prints each count's median ratio to the first count's
run of the same round, which a drift of the machine's speed cancels out of.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psutil
import psycopg
from django.conf import settings
from django.core.management.base import CommandParser
from django_q.models import OrmQ

from devtools.benchmarking import (
    DEFAULT_BENCH_URL,
    BenchmarkCommand,
    BenchmarkError,
    PeakRss,
    RunningService,
    benchmark_database_name,
    database_server,
    dataset,
    demo_token,
    fresh_database,
    load_dataset,
    machine,
    manage,
    tree_cpu_seconds,
)

COMPLETE_TIMEOUT = 900.0
# A poll costs the web server about 10 ms of CPU here. Polled ten times a
# second, the server took a tenth of a core from the workers it measured;
# the end of a run is the report's own finished_at, so a slower poll costs
# the figure no precision.
POLL_INTERVAL = 0.5
QUEUE_TABLE = OrmQ._meta.db_table
CLEAR_QUEUE = f"DELETE FROM {QUEUE_TABLE}"


@dataclass(frozen=True, slots=True)
class Run:
    """One trigger-to-Complete run, and the CPU that the database server and the cluster spent in it.

    On two cores the database's CPU is what keeps two workers from halving
    one worker's time: with one worker it runs beside the worker on the
    other core; with two it takes its share of the cores from them.
    """

    seconds: float
    peak_rss_mb: float
    database_cpu: float
    cluster_cpu: float


class Command(BenchmarkCommand):
    help = "Measure trigger-to-Complete over HTTP with several worker counts against build_report's time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--database-url", default=DEFAULT_BENCH_URL + "_cluster")
        parser.add_argument("--shard-size", type=int, default=settings.REPORT_SHARD_SIZE)
        parser.add_argument("--reuse", action="store_true", help="keep the data already in the database")
        parser.add_argument(
            "--repeat",
            type=int,
            default=3,
            help="rounds of build_report and one run per worker count; medians are printed",
        )

    def run(self, options: dict[str, Any]) -> None:
        url = options["database_url"]
        if not url.startswith("postgres"):
            raise BenchmarkError("bench_cluster measures PostgreSQL: give a postgres:// --database-url")
        data = dataset(options["scale"], options["seed"], None)
        self.stdout.write(f"machine: {machine()}")
        if options["reuse"]:
            benchmark_database_name(url, doing="clear the queue of")
            manage(["migrate", "--no-input", "-v0"], database_url=url)  # the code may have moved on since it was loaded
            with psycopg.connect(url) as database:
                polls = database.execute("SELECT count(*) FROM stores_poll").fetchone()[0]  # type: ignore[index]
                # Tasks and reports left by an earlier run (or a load test) on this
                # throw-away database would be worked off before the timed report.
                database.execute(CLEAR_QUEUE)
                database.execute(
                    "UPDATE reports_report SET status = 'failed', error = 'left over from an earlier benchmark run' "
                    "WHERE status IN ('pending', 'running')"
                )
        else:
            fresh_database(url)
            polls = load_dataset(data, database_url=url)
        token = demo_token(database_url=url)
        counts = [int(count) for count in options["workers"].split(",")]
        # Rounds, not one worker count after another: this machine's speed
        # drifts by tens of percent over minutes, and a drift should slow every
        # configuration it overlaps alike, not whichever happened to run then.
        singles: list[float] = []
        runs: dict[int, list[Run]] = {workers: [] for workers in counts}
        single_rss = 0.0
        for _ in range(max(1, options["repeat"])):
            single = manage(["build_report", "--output", os.devnull], database_url=url)
            singles.append(single.seconds)
            single_rss = max(single_rss, single.peak_rss_mb)
            for workers in counts:
                runs[workers].append(self._one_run(url, token, workers, options["shard_size"]))
        single_median = statistics.median(singles)
        self.stdout.write(
            f"scale {options['scale']:g}: {polls:,} polls; build_report {single_median:.2f} s "
            f"(median of {len(singles)}: {_spread(singles)}), "
            f"peak RSS {single_rss:.0f} MB; shard size {options['shard_size']}"
        )
        self.stdout.write(
            f"{'workers':>7} {'trigger→Complete s':>19} {'× build_report':>15} {'× first count':>14} "
            f"{'peak worker RSS MB':>19} {'database CPU s':>15} {'cluster CPU s':>14}  runs"
        )
        first = counts[0]
        for workers in counts:
            seconds = [run.seconds for run in runs[workers]]
            median = statistics.median(seconds)
            # Each round's own ratio to the first count's run of that round: drift cancels out.
            ratios = [run.seconds / base.seconds for run, base in zip(runs[workers], runs[first], strict=True)]
            self.stdout.write(
                f"{workers:>7} {median:>19.2f} {median / single_median:>15.2f} {statistics.median(ratios):>14.2f} "
                f"{max(run.peak_rss_mb for run in runs[workers]):>19.0f} "
                f"{statistics.median(run.database_cpu for run in runs[workers]):>15.2f} "
                f"{statistics.median(run.cluster_cpu for run in runs[workers]):>14.2f}  {_spread(seconds)}"
            )
        for workers in counts[1:]:
            # Round by round, in order: to pool rounds of several calls, or see a drift.
            pairs = zip(runs[workers], runs[first], strict=True)
            each = " ".join(f"{run.seconds / base.seconds:.2f}" for run, base in pairs)
            self.stdout.write(f"{workers} workers / {first}, each round: {each}")

    def _one_run(self, database_url: str, token: str, workers: int, shard_size: int) -> Run:
        env = {"Q_WORKERS": str(workers), "REPORT_SHARD_SIZE": str(shard_size)}
        # The previous run's report queued the task that stores its extended CSV as it
        # completed, and its cluster may have stopped first: this run must not work it off.
        with psycopg.connect(database_url) as database:
            database.execute(CLEAR_QUEUE)
        with RunningService(database_url, env) as service, PeakRss(psutil.Process(service.cluster.pid)) as rss:
            self._warm_up(service, token, database_url)
            cluster = rss.root
            database = database_server(database_url)
            cpu_before = tree_cpu_seconds(database), tree_cpu_seconds(cluster)
            started = time.time()
            report_id = service.trigger(token)
            state = service.wait_until_finished(token, report_id, COMPLETE_TIMEOUT, interval=POLL_INTERVAL)
            # Read when the poll sees Complete, up to POLL_INTERVAL after it: the idle cluster adds little.
            database_cpu = tree_cpu_seconds(database) - cpu_before[0]
            cluster_cpu = tree_cpu_seconds(cluster) - cpu_before[1]
        if state["status"] != "Complete":
            raise BenchmarkError(f"report ended {state['status']}: {state.get('error')}")
        # The server runs on this machine's clock: the report's own finished_at ends the run exactly.
        seconds = datetime.fromisoformat(state["finished_at"]).timestamp() - started
        return Run(seconds, rss.max_mb, database_cpu, cluster_cpu)

    def _warm_up(self, service: RunningService, token: str, database_url: str) -> None:
        """A client's trigger, not fresh, before the timed one: the web server's first is not the fan-out's time.

        A new server process's first trigger took 0.31 s to store its report,
        the next ones 0.035 s: the latest poll's probe (kept while no poll is
        added) and the modules its views load on first use. A server in
        service has paid that long before. On a database with an equal
        report (every run after the first) the trigger is answered from it
        and queues nothing; otherwise the report runs, and so does the
        extended CSV its completion queues, before the timed run starts.
        """
        warmed = time.time()
        state = service.wait_until_finished(
            token, service.trigger(token, fresh=False), COMPLETE_TIMEOUT, interval=POLL_INTERVAL
        )
        if state["status"] == "Complete" and datetime.fromisoformat(state["finished_at"]).timestamp() > warmed:
            with psycopg.connect(database_url) as database:
                while database.execute(f"SELECT count(*) FROM {QUEUE_TABLE}").fetchone() != (0,):
                    time.sleep(POLL_INTERVAL)
            time.sleep(2)  # the worker that took the last task finishes it


def _spread(seconds: Iterable[float]) -> str:
    return " ".join(f"{value:.2f}" for value in sorted(seconds))
