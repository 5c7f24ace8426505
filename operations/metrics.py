"""The Prometheus metrics the processes count themselves: requests, ingested rows, deliveries.

These are events a process sees and the database keeps no record of. Every
gunicorn worker and every qcluster worker is a process of its own, so each
counts its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (the README's
Production section sets it for gunicorn, qcluster and ``manage.py``
commands alike), prometheus-client keeps each process's counts in a file
there and ``/metrics`` adds them all up; without it (one process: tests,
``runserver``) they live in the process.

Figures the database already holds (reports, their durations, retried
shards, the queue) are not counted here but read at scrape time by
:mod:`operations.collectors`: counted in the process that computed them,
they would be lost with it and double-counted by a retried task.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "loopmonitor_http_requests", "HTTP requests answered, by route and status.", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "loopmonitor_http_request_duration_seconds",
    "Seconds from the request's arrival in Django to its answer, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
INGEST_ROWS = Counter("loopmonitor_ingest_rows", "Rows read from ingested files, by kind of file.", ["kind"])
INGEST_REJECTS = Counter("loopmonitor_ingest_rejected_rows", "Rows rejected when ingesting, by kind of file.", ["kind"])
DELIVERIES = Counter(
    "loopmonitor_deliveries",
    "Report delivery attempts, by channel (email, webhook) and outcome (delivered; retrying: failed, tried again "
    "later; failed: the last attempt failed).",
    ["channel", "outcome"],
)


def request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    REQUEST_SECONDS.labels(method=method, route=route).observe(seconds)


def ingest_observe(*, kind: str, read: int, rejected: int) -> None:
    INGEST_ROWS.labels(kind=kind).inc(read)
    INGEST_REJECTS.labels(kind=kind).inc(rejected)


def delivery_observe(*, channel: str, outcome: str) -> None:
    """For the delivery code (issue 16): one call per attempt, in whichever process makes it."""
    DELIVERIES.labels(channel=channel, outcome=outcome).inc()
