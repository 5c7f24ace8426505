"""Settings that depend on which process reads them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest


@pytest.fixture
def reload_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The settings module, to be re-read under a monkeypatched ``sys.argv``; re-read as it was afterwards."""
    monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    module = importlib.import_module("loopmonitor.settings")
    yield module
    monkeypatch.undo()
    importlib.reload(module)


@pytest.mark.parametrize(
    ("command", "kept_seconds"), [("qcluster", 60), ("runserver", 0), ("serve", 0), ("ingest", 0)]
)
def test_only_a_worker_process_keeps_its_database_connection(
    reload_settings: ModuleType, monkeypatch: pytest.MonkeyPatch, command: str, kept_seconds: int
) -> None:
    monkeypatch.setattr(sys, "argv", ["manage.py", command])

    settings = importlib.reload(reload_settings)

    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == kept_seconds
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.fixture
def production_environment(reload_settings: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The settings module with a production environment: no DEBUG, a key, and none of the opt-ins."""
    for name in ("DEBUG", "TRUST_X_FORWARDED_PROTO", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-production-key-" + "x" * 50)
    return reload_settings


def test_debug_is_off_unless_the_environment_turns_it_on(production_environment: ModuleType) -> None:
    settings = importlib.reload(production_environment)

    assert settings.DEBUG is False
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.SECURE_HSTS_SECONDS == 3600


def test_a_proxy_and_hsts_subdomains_and_preload_are_trusted_only_when_asked(
    production_environment: ModuleType,
) -> None:
    settings = importlib.reload(production_environment)

    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is False
    assert settings.SECURE_HSTS_PRELOAD is False


def test_each_opt_in_has_its_own_variable(production_environment: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUST_X_FORWARDED_PROTO", "1")
    monkeypatch.setenv("SECURE_HSTS_SECONDS", "31536000")
    monkeypatch.setenv("SECURE_HSTS_INCLUDE_SUBDOMAINS", "1")
    monkeypatch.setenv("SECURE_HSTS_PRELOAD", "1")
    monkeypatch.setenv("SECURE_SSL_REDIRECT", "0")

    settings = importlib.reload(production_environment)

    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.SECURE_HSTS_SECONDS == 31536000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS is True
    assert settings.SECURE_HSTS_PRELOAD is True
    assert settings.SECURE_SSL_REDIRECT is False
