"""Deliver a subscription's run as soon as its report finishes (the scheduler's minute is the backstop)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from reports.signals import report_finished
from subscriptions.models import SubscriptionRun
from subscriptions.queue import queue_run_delivery


@receiver(report_finished)
def deliver_runs_of_report(sender: Any, report_id: str, **kwargs: Any) -> None:
    for run_id in SubscriptionRun.objects.filter(
        report_id=report_id, status=SubscriptionRun.Status.REPORTING
    ).values_list("id", flat=True):
        queue_run_delivery(run_id)
