"""django-q2 tasks: thin calls of services, nothing else."""

from __future__ import annotations

from subscriptions.delivery import run_deliver
from subscriptions.scheduling import scheduler_minute


def deliver_due() -> str:
    """Claim due subscriptions, start their reports, deliver finished ones, retry failures; every minute."""
    return scheduler_minute().summary()


def deliver_run(run_id: int) -> int:
    """Deliver one run whose report just finished; queued by the report's completion."""
    return run_deliver(run_id)
