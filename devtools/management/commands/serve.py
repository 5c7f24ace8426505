"""``manage.py serve``: the web server and a django-q2 worker cluster, started and stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the development web server with a django-q2 worker cluster beside it (Ctrl-C stops both)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        base = f"http://{options['host']}:{options['port']}"
        # A plain `kill` must also stop the worker cluster: make SIGTERM unwind like Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=settings.BASE_DIR)
        self.stdout.write(
            f"worker: django-q2 cluster pid {worker.pid} ({settings.Q_CLUSTER['workers']} worker(s), "
            f"{'Redis' if settings.REDIS_URL else 'ORM'} broker)\n"
            f"serving {base}/  admin {base}/admin/  API docs {base}/api/docs/  "
            f"trigger {base}/trigger_report  poll {base}/get_report?report_id=…"
        )
        try:
            call_command("runserver", f"{options['host']}:{options['port']}", use_reloader=False)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
