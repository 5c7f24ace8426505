"""The demo ``make run`` loads: the real sample, plus a generated week of outages for a few hundred real stores.

Every one of the real sample's 5,032 polls is ``active``, so a first report
on it alone shows 100 % uptime and no outage at all. Beside it, ``make run``
loads a week from :mod:`devtools.generator` for :data:`DEMO_STORES` of the
sample's real stores (their real hours and zones, outages in runs from the
generator's profiles), ending at the sample's newest poll so that poll stays
the default ``now`` of a report and the week is exactly the report's week.
The same seed gives the same bytes, and a poll is keyed by store and instant,
so loading it again stores nothing twice.

:func:`store_with_outages` picks the store ``make run``'s hints point at,
measured by the report's own engine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.admin.utils import quote
from django.db.models import Count, Q
from django.urls import reverse

from reports.outages import StoreWeek, store_week
from reports.selectors import latest_poll_time, polls_in_week, store_inputs
from reports.services import consistent_read
from stores.models import PollStatus, Store
from stores.rules import parse_timestamp_utc

#: Real stores given a generated week: enough for a histogram with a spread, small enough to load in seconds.
DEMO_STORES = 300
DEMO_SEED = 0
#: Stores with the most inactive polls that :func:`store_with_outages` measures before choosing.
_CANDIDATES = 40


def sample_dir() -> Path:
    return Path(settings.BASE_DIR) / "data" / "sample"


def demo_dir() -> Path:
    """Where the generated files go: git-ignored, beside the SQLite database."""
    return Path(settings.VAR_DIR) / "demo"


def newest_poll_in(polls_file: Path) -> datetime:
    """The latest ``timestamp_utc`` of a polls file, read by the ingestion rules."""
    with polls_file.open(encoding="utf-8", newline="") as handle:
        newest = max((parse_timestamp_utc(row["timestamp_utc"]) for row in csv.DictReader(handle)), default=None)
    if newest is None:
        raise ValueError(f"{polls_file} holds no poll")
    return newest


@dataclass(frozen=True, slots=True)
class DemoStore:
    """The store the hints point at, and what the report's engine found in its week."""

    store_id: str
    organization: str | None
    outages: int
    downtime_hours: float
    now: datetime


def store_with_outages() -> DemoStore | None:
    """The store with the most outages in the week before the latest poll, among the most often inactive ones.

    ``None`` when no store had an outage (no demo week loaded). Ties go to the smaller store id,
    so the same data always gives the same store.
    """
    now = latest_poll_time()
    if now is None:
        return None
    inactive = Count("polls", filter=Q(polls__in=polls_in_week(now).filter(status=PollStatus.INACTIVE)))
    candidates = list(
        Store.objects.annotate(inactive=inactive)
        .filter(inactive__gt=0)
        .order_by("-inactive", "id")
        .values_list("id", flat=True)[:_CANDIDATES]
    )
    if not candidates:
        return None
    with consistent_read():
        weeks = [store_week(inputs, now) for inputs in store_inputs(now, sorted(candidates), contiguous=False)]
    best: StoreWeek | None = max(
        (week for week in weeks if week.timeline.outages), key=lambda week: len(week.timeline.outages), default=None
    )
    if best is None:
        return None
    organization = Store.objects.filter(id=best.store_id).values_list("organization__slug", flat=True).get()
    return DemoStore(
        store_id=best.store_id,
        organization=organization,
        outages=len(best.timeline.outages),
        downtime_hours=float(best.timeline.uptime.last_week.down) / 3600,
        now=now,
    )


def hint_lines(base: str, auth: str) -> list[str]:
    """What ``make run`` prints about :func:`store_with_outages`: where to see its outages. Empty without one."""
    store = store_with_outages()
    if store is None:
        return []
    store_page = base + reverse("admin:stores_store_change", args=[quote(store.store_id)])
    in_report = base + reverse("admin:reports_report_store", args=["REPORT_ID", quote(store.store_id)])
    owner = f", owned by {store.organization}" if store.organization else ""
    return [
        f"  A store with outages: {store.store_id}{owner} ({store.outages} outages, {store.downtime_hours:.1f} h down "
        f"in the week before {store.now:%Y-%m-%d %H:%M} UTC)",
        f"    Its week in a report  {in_report}",
        f"    Its admin page        {store_page}",
        f"    Its outages           curl -s {auth} {base}/stores/{store.store_id}/outages",
        "",
    ]
