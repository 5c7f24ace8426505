"""Liveness and readiness: what a load balancer or an orchestrator probes.

``/healthz`` answers from the process alone (no database, no cache): the
process is up and serving. ``/readyz`` runs each check of
:data:`READINESS_CHECKS` and says only ``ok`` or ``failed`` per check, never
why (the reason is logged): the endpoints need no authentication, and an
exception's text can name hosts and users.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.status import Stat

logger = logging.getLogger(__name__)


def database_reachable() -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        return bool(cursor.fetchone() == (1,))


def migrations_applied() -> bool:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def broker_reachable() -> bool:
    broker = get_broker()
    # The ORM broker's ping is always True; counting its queue reaches its table.
    broker.queue_size()
    return bool(broker.ping())


def worker_cluster_seen() -> bool:
    """A qcluster saved its stats (django-q2 does so every guard cycle, in the shared cache) recently enough."""
    since = timezone.now() - timedelta(seconds=settings.READYZ_CLUSTER_SEEN_SECONDS)
    return any(stat.timestamp >= since for stat in Stat.get_all())


READINESS_CHECKS: dict[str, Callable[[], bool]] = {
    "database": database_reachable,
    "migrations": migrations_applied,
    "broker": broker_reachable,
    "workers": worker_cluster_seen,
}


def readiness() -> dict[str, str]:
    """``{check: "ok" | "failed"}`` for every readiness check; a check that raises has failed."""
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            passed = check()
        except Exception:  # noqa: BLE001 - any failure is a failed check; the log keeps the reason
            logger.warning("readiness check %s raised", name, exc_info=True)
            passed = False
        results[name] = "ok" if passed else "failed"
    return results
