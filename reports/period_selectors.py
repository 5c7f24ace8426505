"""Reads for a period report: the fixed report's reads, with ``[start, end]`` for the week window.

Kept beside :mod:`reports.selectors` rather than inside it: the same chunked,
index-range queries (polls by ``(store, time)``, hours and zones by store
range), bounded by the period instead of ``[now - 168 h, now]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, models

from reports.engine.intervals import HoursRow
from reports.engine.intervals import Poll as PollPoint
from reports.selectors import EpochMicroseconds, StoreInputs, store_schedules, stores_polled_in
from stores.models import Poll, PollStatus


def polls_in_period(start: datetime, end: datetime) -> models.QuerySet[Poll]:
    """Polls in ``[start, end]``: both ends included, as a period's observations rule says."""
    return Poll.objects.filter(timestamp_utc__gte=start, timestamp_utc__lte=end)


def period_reported_store_ids(
    start: datetime, end: datetime, *, organization_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Every store with a poll in ``[start, end]``, sorted; only the organization's when given."""
    return list(stores_polled_in(polls_in_period(start, end), organization_id=organization_id, using=using))


def period_store_polls(
    start: datetime, end: datetime, store_ids: Sequence[str], *, max_poll_id: int | None = None
) -> dict[str, list[PollPoint]]:
    """The polls in ``[start, end]`` of a sorted, contiguous run of store ids, by store, in time order; one query."""
    polls: dict[str, list[PollPoint]] = {store_id: [] for store_id in store_ids}
    rows = polls_in_period(start, end).filter(store_id__gte=store_ids[0], store_id__lte=store_ids[-1])
    if max_poll_id is not None:
        rows = rows.filter(id__lte=max_poll_id)
    ordered = rows.order_by("store_id", "timestamp_utc").values_list(
        "store_id", EpochMicroseconds("timestamp_utc", within=(start, end)), "status"
    )
    active = PollStatus.ACTIVE.value
    current_id, current = "", None
    for store_id, instant, status in ordered.iterator(chunk_size=10_000):
        if store_id != current_id:
            current_id, current = store_id, polls.get(store_id)
        if current is not None:
            current.append((instant, status == active))
    return polls


def period_store_inputs(start: datetime, end: datetime, store_ids: Sequence[str]) -> list[StoreInputs]:
    """Everything a period report needs for a sorted, contiguous run of reported store ids: three queries."""
    schedules = store_schedules(store_ids, HoursRow)
    polls = period_store_polls(start, end, store_ids)
    return [StoreInputs(store_id, *schedules.get(store_id, (None, [])), polls[store_id]) for store_id in store_ids]
