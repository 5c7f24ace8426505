"""gunicorn's configuration: ``gunicorn -c python:loopmonitor.gunicorn_conf loopmonitor.wsgi``.

Everything else is gunicorn's own and set by its environment or flags:
``WEB_CONCURRENCY`` (workers), ``PORT`` or ``--bind`` (default
127.0.0.1:8000), ``GUNICORN_CMD_ARGS`` for the rest.
"""

from __future__ import annotations

import os
from typing import Any

# Sync workers: one request at a time per process, the model Django's ORM is written for.
worker_class = "sync"
# The app logs one line per request with its id (loopmonitor.request_log); gunicorn's access log would repeat it.
accesslog = None
# A sync worker serves one request at a time, so its database connection is
# never shared: keep it between requests (runserver, with a thread a request, must not).
os.environ.setdefault("CONN_MAX_AGE", "60")


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's metric files stay in PROMETHEUS_MULTIPROC_DIR (its counts still add up); its live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
