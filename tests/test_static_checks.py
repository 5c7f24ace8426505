"""Static checks that belong to the suite, so CI runs them with everything else."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings


def test_the_project_passes_mypy() -> None:
    # A subprocess: the django-stubs plugin sets Django up itself.
    packages = [
        "reports",
        "ingestion",
        "stores",
        "loopmonitor",
        "operations",
        "devtools",
        "organizations",
        "portal",
        "subscriptions",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *packages],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_project_passes_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
