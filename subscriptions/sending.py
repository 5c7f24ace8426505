"""Send now: a run of the last complete period, started at once (or at the next minute when the service is busy)."""

from __future__ import annotations

from django.utils import timezone

from subscriptions.models import Subscription, SubscriptionRun
from subscriptions.scheduling import run_create, run_start


def send_now(subscription: Subscription) -> SubscriptionRun:
    now = timezone.now()
    run = run_create(subscription, trigger=SubscriptionRun.Trigger.SEND_NOW, due_at=now, now=now)
    run_start(run)
    run.refresh_from_db()
    return run
