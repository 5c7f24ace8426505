"""Fixtures of the ingestion tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def temporary_media_root(settings: Settings, tmp_path: Path) -> Path:
    """The admin import keeps rejects files in the default storage: never in the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
