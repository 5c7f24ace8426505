"""Benchmark plumbing shared by ``bench_ingest`` and ``bench_report``.

Each measured step runs as its own ``manage.py`` process against a
throw-away database, so its wall time and peak RSS are its own (read with
``os.wait4``), not the benchmark driver's, and a benchmark never touches the
database the service uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psutil
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devtools.management.commands.serve import stop_group

DEFAULT_BENCH_URL = "postgres://postgres@127.0.0.1:5432/loopmonitor_bench"
# The processes a benchmark starts are a local run: plain HTTP on loopback and the demo user.
LOCAL_RUN = {"DEBUG": "1", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


class BenchmarkError(Exception):
    pass


class BenchmarkCommand(BaseCommand):
    """A management command whose ``run`` may raise :class:`BenchmarkError`, shown as a one-line error."""

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.run(options)
        except BenchmarkError as error:
            raise CommandError(str(error)) from None

    def run(self, options: dict[str, Any]) -> None:
        raise NotImplementedError


DATASET_FILES = (("timezones", "timezones.csv"), ("hours", "menu_hours.csv"), ("polls", "store_status.csv"))


def load_dataset(data: Path, *, database_url: str) -> int:
    """Ingest a generated dataset's three files; returns how many polls were read."""
    load = manage(["ingest", *(f"--{kind}={data / name}" for kind, name in DATASET_FILES)], database_url=database_url)
    found = re.search(r"polls: (\d+) read", load.stdout)
    if found is None:
        raise BenchmarkError(f"unexpected ingest output: {load.stdout[-500:]}")
    return int(found.group(1))


def demo_token(*, database_url: str) -> str:
    """The API token of the demo user (created if missing) in that database."""
    found = re.search(r"API token\s+(\w+)", manage(["demo_user"], database_url=database_url).stdout)
    if found is None:
        raise BenchmarkError("demo_user printed no token")
    return found.group(1)


def manage(args: list[str], *, database_url: str, extra_env: dict[str, str] | None = None) -> Measured:
    """Run ``manage.py ARGS`` against ``database_url``; its wall time and peak RSS."""
    env = {**os.environ, **LOCAL_RUN, "DATABASE_URL": database_url, **(extra_env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *args], env=env, stdout=out, stderr=err
        )
        # wait4 rather than Popen.wait: it hands back this child's own rusage.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise BenchmarkError(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024, stdout, stderr)


def benchmark_database_name(database_url: str, *, doing: str) -> str:
    """The PostgreSQL database's name, if it is a throw-away benchmark database (its name contains ``bench``)."""
    name: str = dj_database_url.parse(database_url)["NAME"]
    if "bench" not in name:
        raise BenchmarkError(f"refusing to {doing} database {name!r}: a benchmark database name must contain 'bench'")
    return name


def fresh_database(database_url: str) -> None:
    """Drop and recreate the benchmark database, then migrate it."""
    config = dj_database_url.parse(database_url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{config['NAME']}{suffix}").unlink(missing_ok=True)
    else:
        name = benchmark_database_name(database_url, doing="drop")
        admin = psycopg.connect(
            host=config["HOST"] or None,
            port=config["PORT"] or None,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    manage(["migrate", "--no-input", "-v0"], database_url=database_url)


def dataset(scale: float, seed: int, directory: Path | None, *, days: int | None = None) -> Path:
    """A generated dataset at ``scale`` (over ``days`` days, default the real week), reused from ``var/bench/``."""
    span = "" if days is None else f"-days-{days}"
    target = directory or settings.VAR_DIR / "bench" / f"scale-{scale:g}-seed-{seed}{span}"
    if not (target / "store_status.csv").exists():
        from devtools.generator import generate_dataset

        generate_dataset(
            out_dir=target, scale=scale, seed=seed, sample_dir=settings.BASE_DIR / "data" / "sample", days=days
        )
    return target


def machine() -> str:
    """One line naming the machine, for the README's benchmark table."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GiB RAM, Python {sys.version.split()[0]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeakRss:
    """The peak RSS of each process of a tree, as the kernel records it (``VmHWM``).

    The high-water mark costs the measured processes nothing. The tree is
    walked once a second, and once more at the end, to learn its processes;
    walking it every 50 ms (psutil reads every process of the machine to
    find children) took a tenth of a core from the workers being timed.
    Without ``/proc`` (not Linux) each walk samples the current RSS instead.
    """

    def __init__(self, root: psutil.Process) -> None:
        self.root = root
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _walk(self) -> None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for process in processes:
            try:
                rss = _high_water_mark(process.pid) or process.memory_info().rss
            except (psutil.NoSuchProcess, ProcessLookupError):
                continue
            self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            self._walk()

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._walk()

    @property
    def max_mb(self) -> float:
        return max(self.peaks.values(), default=0) / 1024**2


def _high_water_mark(pid: int) -> int | None:
    """``VmHWM`` of a process in bytes, or ``None`` where ``/proc`` has no such line."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        if os.path.exists("/proc/self/status"):
            raise ProcessLookupError(pid) from None
    return None


def tree_cpu_seconds(root: psutil.Process) -> float:
    """CPU seconds (user and system) used so far by ``root`` and every process under it, the exited ones too.

    An exited child's time is in its parent's ``children_*`` once the parent
    has reaped it, as PostgreSQL's postmaster reaps each closed connection's
    backend; a live process's own ``children_*`` count what it reaped, which
    no other process's times include.
    """
    total = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


def database_server(database_url: str) -> psutil.Process:
    """The PostgreSQL server's main process (the postmaster), which must run on this machine to be measured."""
    with psycopg.connect(database_url) as database:
        backend = database.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None
        try:
            # While the connection is open: its backend exits with it.
            server = psutil.Process(backend[0]).parent()
        except psutil.NoSuchProcess:
            server = None
    if server is None:
        raise BenchmarkError("the database server is not on this machine: its CPU time cannot be read")
    return server


class RunningService:
    """A real web server and a real ``qcluster`` on a loopback port, each its own process, for one run."""

    def __init__(self, database_url: str, env: dict[str, str]) -> None:
        self.env = {**os.environ, **LOCAL_RUN, "DATABASE_URL": database_url, **env}
        self.base = f"http://127.0.0.1:{free_port()}"

    def __enter__(self) -> RunningService:
        manage_py = str(settings.BASE_DIR / "manage.py")
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": self.env}
        address = self.base.removeprefix("http://")
        self.server = subprocess.Popen([sys.executable, manage_py, "runserver", "--noreload", address], **quiet)
        self.cluster = subprocess.Popen([sys.executable, manage_py, "qcluster"], start_new_session=True, **quiet)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/get_report", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise BenchmarkError(f"the web server at {self.base} did not start") from None
                time.sleep(0.2)
        time.sleep(3)  # the cluster's workers start
        return self

    def __exit__(self, *exc: object) -> None:
        # As serve stops it. A SIGTERM to the whole group killed the sentinel
        # first, and the cluster then waited for it until killed: 30 s a run.
        self.server.terminate()
        stop_group(self.cluster)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()

    def call(self, path: str, token: str, method: str = "GET") -> dict[str, Any]:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        request = urllib.request.Request(f"{self.base}{path}", method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as answer:
            body: dict[str, Any] = json.loads(answer.read())
            return body

    def trigger(self, token: str, *, fresh: bool = True) -> str:
        """A new report every time (``fresh``): a benchmark measures computing, not the reuse of an equal report."""
        return str(self.call("/trigger_report" + ("?fresh=1" if fresh else ""), token, method="POST")["report_id"])

    def download(self, token: str, report_id: str) -> str:
        """The report's CSV as a client downloads it."""
        request = urllib.request.Request(
            f"{self.base}/reports/{report_id}/download", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            return bytes(answer.read()).decode("utf-8")

    def wait_until_finished(
        self, token: str, report_id: str, timeout: float, *, interval: float = 0.1
    ) -> dict[str, Any]:
        """The report's JSON status once it is no longer Running, polling every ``interval`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.call(f"/get_report?report_id={report_id}&format=json", token)
            if state["status"] != "Running":
                return state
            time.sleep(interval)
        raise BenchmarkError(f"report {report_id} still Running after {timeout:.0f} s")


def build_report_csv(database_url: str, as_of: str) -> str:
    """What ``manage.py build_report --as-of`` writes, in a process of its own: the CSV a report must equal."""
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "expected.csv"
        manage(["build_report", "--as-of", as_of, "--output", str(output)], database_url=database_url)
        return output.read_text(encoding="utf-8")
