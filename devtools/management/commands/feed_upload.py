"""``manage.py feed_upload KIND FILE``: one file through the ingestion API, timed on the server side (benchmarks).

The request goes through Django's whole stack in this process (WSGI
handler, middleware, token authentication, the view) as a feed account; a
``202`` is then drained from the broker through django-q2's own worker and
monitor code, as a cluster would run it. Prints one line of timings.

Server time is that of a served process: one ``GET /ingest/runs`` first, as
a running server has answered other requests (and ``loopmonitor.wsgi``
imports the URL conf as it starts), so the figure is the upload's, not the
process's first-request imports. ``--cold`` times the process's very first
request instead, as after a restart.
"""

from __future__ import annotations

import time
from multiprocessing import Value
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.test import Client
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.queues import Queue
from django_q.signing import SignedPackage
from django_q.worker import worker

from ingestion.accounts import feed_account_ensure
from ingestion.models import IngestRun


def drain_queue() -> int:
    """Run every queued task through django-q2's worker and monitor, in this process."""
    broker = get_broker()
    ran = 0
    while broker.queue_size():
        for ack_id, payload in broker.dequeue() or []:
            task = SignedPackage.loads(payload) | {"ack_id": ack_id, "cluster": Conf.CLUSTER_NAME}
            tasks, results = Queue(), Queue()
            tasks.put(task)
            tasks.put("STOP")
            worker(tasks, results, Value("f", -1))
            results.put("STOP")
            monitor(results, broker)
            ran += 1
    return ran


class Command(BaseCommand):
    help = "POST one file to /ingest/KIND as a feed account, run the worker if it answers 202, print timings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind")
        parser.add_argument("file", type=Path)
        parser.add_argument("--cold", action="store_true", help="no warm-up request: time the process's first")

    def handle(self, *args: Any, **options: Any) -> None:
        token = feed_account_ensure(username="bench-feed")
        body = options["file"].read_bytes()
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        warm_up = ""
        if not options["cold"]:
            started = time.perf_counter()
            client.get("/ingest/runs", {"limit": 1})
            warm_up = f"warm-up request {time.perf_counter() - started:.3f} s; "
        started = time.perf_counter()
        response = client.generic("POST", f"/ingest/{options['kind']}", body, content_type="text/csv")
        request_seconds = time.perf_counter() - started
        worker_seconds = 0.0
        if response.status_code == 202:
            started = time.perf_counter()
            drain_queue()
            worker_seconds = time.perf_counter() - started
        elif response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}: {response.content[:500]!r}")
        run = IngestRun.objects.get(pk=response.json()["id"] if response.status_code == 201 else _run_id(response))
        self.stdout.write(
            f"{warm_up}status {response.status_code}; request {request_seconds:.3f} s; worker {worker_seconds:.3f} s; "
            f"total {request_seconds + worker_seconds:.3f} s; run {run.status}: {run.read} read, {run.stored} new"
        )


def _run_id(response: Any) -> int:
    return int(str(response["Location"]).rstrip("/").rsplit("/", 1)[-1])
