"""``manage.py serve`` as real processes: it restarts a dead worker cluster, gives up loudly, and leaves nothing behind.

Each test starts ``serve`` in a process group of its own on the test
database, kills its cluster with SIGKILL, and checks what happens by looking
at the processes themselves. Whatever a test leaves is killed in ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from django.conf import settings

from devtools.benchmarking import free_port
from tests.reports.test_qcluster_live import this_tests_database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

WAIT_SECONDS = 60.0
T = TypeVar("T")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie has ended)."""
    running = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.add(pid)
    return running


def family(process: psutil.Process) -> set[int]:
    """The process and all its descendants."""
    with contextlib.suppress(psutil.Error):
        return {process.pid, *(child.pid for child in process.children(recursive=True))}
    return set()


def qcluster_child(serve: subprocess.Popen[bytes]) -> psutil.Process | None:
    """The running cluster of ``serve`` once its workers are up (the cluster and at least two more processes)."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(serve.pid).children():
            if "qcluster" in child.cmdline() and len(family(child)) >= 3:
                return child
    return None


class Serve:
    def __init__(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.process, self.log_path = process, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_serve(isolated_reports: Path, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[subprocess.Popen[bytes]] = []
    families: list[set[int]] = []

    def start(*args: str) -> Serve:
        port = free_port()
        log_path = tmp_path / f"serve-{port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": this_tests_database_url(),
            "MEDIA_ROOT": str(isolated_reports),
            "Q_WORKERS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(port), *args],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        serve = Serve(process, log_path)
        eventually("the web server answers", lambda: answers(f"http://127.0.0.1:{port}/get_report"))
        cluster = eventually(f"serve starts a cluster\n{serve.log()}", lambda: qcluster_child(process))
        families.append(family(cluster))
        return serve

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    for pid in alive(set().union(*families)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_serve_restarts_a_killed_cluster_and_stops_every_process_of_it_on_sigterm(
    start_serve: Callable[..., Serve],
) -> None:
    serve = start_serve()
    first = eventually("a cluster", lambda: qcluster_child(serve.process))
    first_family = family(first)

    os.kill(first.pid, signal.SIGKILL)

    second = eventually(
        f"a new cluster\n{serve.log()}",
        lambda: cluster if (cluster := qcluster_child(serve.process)) and cluster.pid != first.pid else None,
    )
    assert alive(first_family) == set(), "the killed cluster's workers were left running"
    assert f"worker cluster (pid {first.pid}) exited" in serve.log()
    second_family = family(second)
    assert len(first_family) >= 3 and len(second_family) >= 3

    serve.process.send_signal(signal.SIGTERM)

    assert serve.process.wait(timeout=WAIT_SECONDS) == 0
    eventually("every process of the cluster is gone", lambda: True if not alive(second_family) else None)


def test_serve_gives_up_loudly_on_a_cluster_that_keeps_dying_and_leaves_nothing_behind(
    start_serve: Callable[..., Serve],
) -> None:
    serve = start_serve("--max-cluster-restarts", "0")
    cluster = eventually("a cluster", lambda: qcluster_child(serve.process))
    everything = family(psutil.Process(serve.process.pid))

    os.kill(cluster.pid, signal.SIGKILL)

    with contextlib.suppress(subprocess.TimeoutExpired):
        serve.process.wait(timeout=WAIT_SECONDS)
    assert serve.process.returncode == 1, serve.log()
    assert "giving up, stopping the web server too" in serve.log()
    assert alive(everything) == set()
