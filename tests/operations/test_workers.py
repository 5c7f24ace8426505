"""A django-q2 worker imports the task modules as it spawns, so its first task does not wait for them."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

# django-q2's own worker loop in a fresh process, told to stop before any task.
SPAWNED = """
import sys, django
django.setup()
from multiprocessing import Queue, Value
from django_q.worker import worker
tasks = ("reports.tasks", "ingestion.tasks", "subscriptions.tasks")
print([name in sys.modules for name in tasks])
queue = Queue()
queue.put("STOP")
worker(queue, Queue(), Value("f", -1))
print([name in sys.modules for name in tasks])
"""


def test_a_spawned_worker_has_imported_every_task_module_before_its_first_task() -> None:
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "loopmonitor.settings", "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SPAWNED], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[False, False, False]", "[True, True, True]"]
