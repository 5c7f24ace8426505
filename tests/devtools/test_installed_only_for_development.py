"""Development tooling stays out of a production deployment: no bench, chaos, load or generator command."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

DEVTOOLS_COMMANDS = {
    "bench_cluster",
    "bench_fetch",
    "bench_ingest",
    "bench_owner_report",
    "bench_report",
    "chaos_kill_worker",
    "demo_owners",
    "demo_user",
    "generate_data",
    "loadtest",
    "serve",
}


def help_commands(tmp_path: Path, **environment: str) -> set[str]:
    # Not the test settings: they turn DEBUG and the devtools on.
    hidden = {"DEBUG", "LOOPMONITOR_DEVTOOLS", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env |= {"LOOPMONITOR_VAR_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50)} | environment
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "help", "--commands"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(result.stdout.split())


def test_production_help_lists_no_development_command(tmp_path: Path) -> None:
    commands = help_commands(tmp_path, DEBUG="0")

    assert {"ingest", "build_report", "qcluster", "migrate"} <= commands
    assert commands & DEVTOOLS_COMMANDS == set()


def test_devtools_can_be_installed_without_debug(tmp_path: Path) -> None:
    assert help_commands(tmp_path, DEBUG="0", LOOPMONITOR_DEVTOOLS="1") >= DEVTOOLS_COMMANDS


def test_the_suite_runs_with_devtools_installed() -> None:
    assert "devtools" in settings.INSTALLED_APPS
