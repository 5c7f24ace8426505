"""The real Loop sample files load with the exact counts they hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.services import hours_ingest, polls_ingest, timezones_ingest
from stores.models import BusinessHours, Poll, Store

pytestmark = pytest.mark.django_db


def test_real_sample_files_load_with_exact_counts(sample_dir: Path) -> None:
    zones = timezones_ingest(path=sample_dir / "timezones.csv")
    hours = hours_ingest(path=sample_dir / "menu_hours.csv")
    polls = polls_ingest(path=sample_dir / "store_status.csv")

    assert (zones.read, zones.inserted, zones.rejected) == (13559, 13559, 0)
    assert (hours.read, hours.inserted, hours.rejected) == (86198, 86198, 0)
    assert (polls.read, polls.inserted, polls.rejected) == (5032, 5032, 0)
    assert Poll.objects.count() == 5032
    assert BusinessHours.objects.values("store").distinct().count() == 11116
    assert Store.objects.exclude(timezone=None).count() == 13559


def test_loading_the_real_sample_twice_stores_nothing_twice(sample_dir: Path) -> None:
    for _ in range(2):
        timezones_ingest(path=sample_dir / "timezones.csv")
        hours_ingest(path=sample_dir / "menu_hours.csv")
        again = polls_ingest(path=sample_dir / "store_status.csv")

    assert (again.inserted, again.updated) == (0, 0)
    assert Poll.objects.count() == 5032
    assert BusinessHours.objects.count() == 86198
