"""Production settings pass ``manage.py check --deploy`` without a single warning.

Each check runs ``manage.py`` in a fresh process with the environment a
deployment sets (a long random ``SECRET_KEY``, ``ALLOWED_HOSTS``, and behind
its TLS proxy the proxy and HSTS opt-ins), because settings are read from the
environment once, at import. ``--fail-level WARNING`` turns any warning into
a non-zero exit. The companions show the check has teeth: a weak key is
flagged, the HSTS opt-ins are reminded of until they are set, and no key at
all stops the process before it serves anything, ``DEBUG`` set or not.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

CLEAN = "System check identified no issues (0 silenced)."


def manage(*args: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    # The service's own settings module, not the suite's (which turns DEBUG on).
    dropped = {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
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


BEHIND_A_TLS_PROXY = {
    "TRUST_X_FORWARDED_PROTO": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    environment = production(secrets.token_urlsafe(50)) | BEHIND_A_TLS_PROXY
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == CLEAN
    assert "WARNING" not in result.stderr


def test_check_deploy_flags_a_short_secret_key(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **production("too-short"))

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_check_deploy_reminds_of_the_hsts_opt_ins_until_they_are_set(tmp_path: Path) -> None:
    environment = production(secrets.token_urlsafe(50))
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **environment)

    assert result.returncode != 0
    assert set(re.findall(r"security\.W\d+", result.stderr)) == {"security.W005", "security.W021"}


@pytest.mark.parametrize("debug", [{"DEBUG": "0"}, {}], ids=["DEBUG=0", "DEBUG unset"])
def test_a_production_process_without_a_secret_key_refuses_to_start(tmp_path: Path, debug: dict[str, str]) -> None:
    result = manage("check", tmp_path=tmp_path, ALLOWED_HOSTS="example.com", **debug)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
