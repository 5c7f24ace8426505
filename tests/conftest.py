"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

SAMPLE_DIR: Path = settings.BASE_DIR / "data" / "sample"


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
