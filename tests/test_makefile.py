"""``make run`` is a local run: its targets turn ``DEBUG`` on, which is off unless the environment sets it.

A real ``make demo-user`` (which migrates first) in a fresh process on a
throw-away SQLite file, with neither ``DEBUG`` nor the suite's settings
module in its environment: it works only if the Makefile sets ``DEBUG=1``,
since ``demo_user`` refuses to run with it off.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings


@pytest.mark.slow
def test_make_demo_user_runs_with_debug_on_though_the_environment_does_not_set_it(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LOOPMONITOR_VAR_DIR": str(tmp_path)}

    result = subprocess.run(
        ["make", "-s", "demo-user"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "API token" in result.stdout
    assert "user 'alice', password 'alice-password'" in result.stdout
    assert "user 'bob', password 'bob-password'" in result.stdout


@pytest.mark.slow
def test_make_demo_data_loads_the_sample_and_the_demo_week_and_the_hints_name_a_store_with_outages(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "LOOPMONITOR_VAR_DIR": str(tmp_path)}

    result = subprocess.run(
        ["make", "-s", "demo-data", "demo-user"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "polls: 5032 read" in result.stdout  # the real sample
    assert "demo week: " in result.stdout and (tmp_path / "demo" / "store_status.csv").is_file()
    assert "A store with outages: " in result.stdout
