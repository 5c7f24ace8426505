"""Production settings pass ``manage.py check --deploy`` without a single warning.

Each check runs ``manage.py`` in a fresh process with the environment a
deployment sets (``DEBUG=0``, a long random ``SECRET_KEY``,
``ALLOWED_HOSTS``), because settings are read from the environment once, at
import. ``--fail-level WARNING`` turns any warning into a non-zero exit.
The two companions show the check has teeth: a weak key is flagged, and no
key at all stops the process before it serves anything.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CLEAN = "System check identified no issues (0 silenced)."


def manage(*args: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env |= {"LOOPMONITOR_VAR_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore"} | environment
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(secret_key: str) -> dict[str, str]:
    return {"DEBUG": "0", "SECRET_KEY": secret_key, "ALLOWED_HOSTS": "example.com"}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **production(secrets.token_urlsafe(50))
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == CLEAN
    assert "WARNING" not in result.stderr


def test_check_deploy_flags_a_short_secret_key(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **production("too-short"))

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_a_production_process_without_a_secret_key_refuses_to_start(tmp_path: Path) -> None:
    result = manage("check", tmp_path=tmp_path, DEBUG="0", ALLOWED_HOSTS="example.com")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
