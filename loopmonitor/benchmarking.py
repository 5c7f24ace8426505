"""Benchmark plumbing shared by ``bench_ingest`` and ``bench_report``.

Each measured step runs as its own ``manage.py`` process against a
throw-away database, so its wall time and peak RSS are its own (read with
``os.wait4``), not the benchmark driver's, and a benchmark never touches the
database the service uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import psycopg
from django.conf import settings

DEFAULT_BENCH_URL = "postgres://postgres@127.0.0.1:5432/loopmonitor_bench"


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


class BenchmarkError(Exception):
    pass


def manage(args: list[str], *, database_url: str, extra_env: dict[str, str] | None = None) -> Measured:
    """Run ``manage.py ARGS`` against ``database_url``; its wall time and peak RSS."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore", **(extra_env or {})}
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


def fresh_database(database_url: str) -> None:
    """Drop and recreate the benchmark database, then migrate it."""
    config = dj_database_url.parse(database_url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{config['NAME']}{suffix}").unlink(missing_ok=True)
    else:
        name = config["NAME"]
        if "bench" not in name:
            raise BenchmarkError(f"refusing to drop database {name!r}: a benchmark database name must contain 'bench'")
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


def dataset(scale: float, seed: int, directory: Path | None) -> Path:
    """A generated dataset at ``scale``, reused from ``var/bench/`` when already there."""
    target = directory or settings.VAR_DIR / "bench" / f"scale-{scale:g}-seed-{seed}"
    if not (target / "store_status.csv").exists():
        from ingestion.generator import generate_dataset

        generate_dataset(out_dir=target, scale=scale, seed=seed, sample_dir=settings.BASE_DIR / "data" / "sample")
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
