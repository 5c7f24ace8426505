"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from pytest_django.fixtures import Settings

from operations.throttling import WindowRateThrottle

SAMPLE_DIR: Path = settings.BASE_DIR / "data" / "sample"

#: The throttles' clock in every test: ten seconds into an hour (and a minute), so no test's calls
#: straddle a window's end and every Retry-After is known.
THROTTLE_NOW = 1_800_000_010.0


@pytest.fixture(autouse=True)
def pinned_throttle_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """With the clock pinned a window never ends: each test's counts start from zero (the cache is cleared)."""
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: THROTTLE_NOW))
    cache.clear()
    yield THROTTLE_NOW
    cache.clear()


@pytest.fixture
def sample_dir() -> Path:
    """The real Loop sample files bundled with the project."""
    return SAMPLE_DIR


@pytest.fixture
def write_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a CSV file from text (dedented lines) and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def isolated_reports(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """Report CSVs go to a temporary MEDIA_ROOT; throttle counters start from zero."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield settings.MEDIA_ROOT
    cache.clear()
