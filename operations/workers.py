"""What a django-q2 worker does as it spawns, before it takes its first task."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import autodiscover_modules
from django_q.signals import post_spawn


def preload_task_modules(**kwargs: Any) -> None:
    """Import every installed app's ``tasks`` module, so a worker's first task does not.

    django-q2 imports a task's function on its first call: 0.11 s here for
    ``reports.tasks`` (the engine, the fan-out, the extended CSV), paid by the
    first task of every new worker process (at start, after a recycle or a
    timeout), which for a report is its plan or a shard the others wait on.
    """
    autodiscover_modules("tasks")


def connect() -> None:
    post_spawn.connect(preload_task_modules, dispatch_uid="operations.preload_task_modules")
