"""``manage.py serve``: the web server and a django-q2 worker cluster, started, watched and stopped together.

The cluster runs in a process group of its own. A watcher thread restarts it
when it dies (a ``kill -9``, an out-of-memory kill), after stopping whatever
is left of its group: the workers of a cluster killed with SIGKILL live on
as orphans otherwise. A cluster that dies more than ``--max-cluster-restarts``
times within a minute is not restarted: ``serve`` says so on stderr and
exits with status 1, so a supervisor sees the trouble instead of a web
server whose reports never run. On exit (Ctrl-C, SIGTERM, or that) the
cluster gets SIGTERM, and its whole group SIGKILL after a grace period: the
cluster's own shutdown can leave worker processes behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

RESTART_WINDOW_SECONDS = 60.0
WATCH_EVERY_SECONDS = 0.5
STOP_GRACE_SECONDS = 15.0


def stop_group(process: subprocess.Popen[bytes], *, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM to the group's leader, then SIGKILL to its whole group, whatever it left behind.

    Only the leader gets the SIGTERM: the cluster stops its workers itself,
    and a SIGTERM to its sentinel too would make it wait for that forever.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)


class ClusterWatcher:
    """Starts the ``qcluster`` process and keeps one running; gives up after too many deaths in a minute."""

    def __init__(self, *, max_restarts: int, stderr: OutputWrapper) -> None:
        self.max_restarts = max_restarts
        self.stderr = stderr
        self.gave_up = False
        self._deaths: deque[float] = deque()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.process = self._start()
        self._thread = threading.Thread(target=self._watch, name="cluster watcher", daemon=True)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=settings.BASE_DIR, start_new_session=True
        )

    def watch(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_EVERY_SECONDS):
            with self._lock:
                if self._stop.is_set() or self.process.poll() is None:
                    continue
                dead = self.process
                stop_group(dead, grace=0)  # its orphaned workers
                now = time.monotonic()
                self._deaths.append(now)
                while self._deaths and self._deaths[0] < now - RESTART_WINDOW_SECONDS:
                    self._deaths.popleft()
                if len(self._deaths) > self.max_restarts:
                    self.gave_up = True
                    self.stderr.write(
                        f"serve: the worker cluster (pid {dead.pid}) exited with status {dead.returncode}, "
                        f"{len(self._deaths)} time(s) within {RESTART_WINDOW_SECONDS:.0f} s: giving up, "
                        "stopping the web server too"
                    )
                    os.kill(os.getpid(), signal.SIGTERM)  # unwinds runserver in the main thread
                    return
                self.process = self._start()
                self.stderr.write(
                    f"serve: the worker cluster (pid {dead.pid}) exited with status {dead.returncode}; "
                    f"restarted it as pid {self.process.pid}"
                )

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            stop_group(self.process)


class Command(BaseCommand):
    help = "Run the development web server with a django-q2 worker cluster beside it (Ctrl-C stops both)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--max-cluster-restarts",
            type=int,
            default=3,
            help="restarts of a dead worker cluster allowed within a minute before serve gives up and exits 1",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = f"http://{options['host']}:{options['port']}"
        cluster = ClusterWatcher(max_restarts=options["max_cluster_restarts"], stderr=self.stderr)
        # A plain `kill` must also stop the worker cluster: make SIGTERM unwind like Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1 if cluster.gave_up else 0))
        self.stdout.write(
            f"worker: django-q2 cluster pid {cluster.process.pid} ({settings.Q_CLUSTER['workers']} worker(s), "
            f"{'Redis' if settings.REDIS_URL else 'ORM'} broker), restarted if it dies\n"
            f"serving {base}/  admin {base}/admin/  API docs {base}/api/docs/  "
            f"trigger {base}/trigger_report  poll {base}/get_report?report_id=…"
        )
        try:
            cluster.watch()
            call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False)
        finally:
            cluster.stop()
