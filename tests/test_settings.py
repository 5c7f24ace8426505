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
