"""Queueing a run's delivery on django-q2."""

from __future__ import annotations

from django_q.tasks import async_task


def queue_run_delivery(run_id: int) -> None:
    async_task("subscriptions.tasks.deliver_run", run_id, task_name=f"deliver-run-{run_id}", group="deliveries")
