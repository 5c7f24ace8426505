"""A report's snapshot: the inputs its plan fixed, written for the shards and read again after.

The fan-out keeps, per shard, the stores it planned with their hours and zones
as they were then (``ReportShard.inputs``, laid out as :data:`ShardInputs`:
:func:`planned_shard_inputs` encodes them for the plan, :func:`planned_hours`
and :func:`shard_store_inputs` decode them for a shard), and on the report the last poll id it
read (``Report.max_poll_id``). Reading those again gives back the inputs the
report computed on, even after new polls, hours or zones were loaded, so a
store page or an extended CSV shows the report's week, not today's data.

Two changes cannot be undone this way: a later load that *changed* the status
of a poll the report read (same store and instant is the same row, same id),
and a store deleted since. Callers that must agree with the stored CSV compare
the recomputed row with it (see :mod:`reports.extended_csv`).

A report that was never planned (made by hand, or still pending) has no
snapshot; its inputs are read from the current database at its ``as_of``,
and :func:`report_is_planned` says so. A planned report without shards had
no store with a poll in its week, and has no inputs.

Callers wrap the iteration in :func:`reports.services.consistent_read`, so the
polls of every shard are read from one consistent state of the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import time
from functools import lru_cache
from typing import Any

from loopmonitor.sequences import chunked
from reports.engine.intervals import HoursRow
from reports.engine.intervals import Poll as PollPoint
from reports.engine.units import MICROSECONDS_PER_SECOND
from reports.models import Report, ReportShard
from reports.selectors import StoreInputs, polls_in_week, reported_store_ids, store_inputs, store_polls, store_schedules

_LIVE_CHUNK = 1000

ShardInputs = list[list[Any]]
"""``[[store_id, timezone, [[day, start, end], ...]], ...]`` in store order, times as microseconds after midnight.

A list, not a mapping: PostgreSQL's jsonb does not keep key order."""


def report_is_planned(report: Report) -> bool:
    """Whether the report's planned inputs are stored: ``planned_at`` is set once its plan has written every shard."""
    return report.planned_at is not None


@lru_cache(maxsize=4096)
def _time_of_day(microseconds: int) -> time:
    seconds, micro = divmod(microseconds, MICROSECONDS_PER_SECOND)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def planned_hours(hours: list[list[int]]) -> list[HoursRow]:
    """A planned store's ``[[day, start, end], ...]``, times as microseconds after midnight, as engine rows."""
    return [HoursRow(day, _time_of_day(start), _time_of_day(end)) for day, start, end in hours]


@lru_cache(maxsize=4096)
def _microseconds(moment: time) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + moment.microsecond


def _hours_inputs(day: int, start: time, end: time) -> list[int]:
    return [day, _microseconds(start), _microseconds(end)]


def planned_shard_inputs(store_ids: list[str], using: str, *, contiguous: bool = True) -> ShardInputs:
    # The plan runs before any shard can start: it builds the JSON-ready rows
    # directly rather than engine rows it would only convert again. An
    # organization's stores are not a contiguous run (reports.selectors._stores_filter).
    schedules = store_schedules(store_ids, _hours_inputs, contiguous=contiguous, using=using)
    return [[store_id, *schedules.get(store_id, (None, []))] for store_id in store_ids]


def _planned_stores(planned: list[Any], only: str | None = None) -> list[tuple[str, str | None, list[HoursRow]]]:
    """One shard's ``[store_id, zone, [[day, start, end], ...]]`` entries, restricted to ``only`` when given."""
    return [
        (store_id, zone, planned_hours(hours)) for store_id, zone, hours in planned if only is None or store_id == only
    ]


def shard_store_inputs(shard: ReportShard, polls: Mapping[str, Sequence[PollPoint]]) -> list[StoreInputs]:
    """A shard's planned stores with their polls, as the engine's inputs."""
    planned = _planned_stores(shard.inputs)
    return [StoreInputs(store_id, zone, hours, polls[store_id]) for store_id, zone, hours in planned]


def report_store_inputs(report: Report, *, only: str | None = None) -> Iterator[StoreInputs]:
    """The inputs of every store with a row in ``report`` (or just store ``only``), in CSV row order."""
    assert report.as_of is not None
    now = report.as_of
    if not report_is_planned(report):
        yield from _live_store_inputs(report, only)
        return
    for planned in report.planned_shards().values_list("inputs", flat=True).iterator(chunk_size=1):
        stores = _planned_stores(planned, only)
        if not stores:
            continue
        store_ids = [store_id for store_id, _, _ in stores]
        polls = store_polls(now, store_ids, contiguous=report.organization_id is None, max_poll_id=report.max_poll_id)
        for store_id, zone, hours in stores:
            yield StoreInputs(store_id, zone, hours, polls[store_id])
        if only is not None:
            return


def _live_store_inputs(report: Report, only: str | None) -> Iterator[StoreInputs]:
    assert report.as_of is not None
    now = report.as_of
    if only is not None:
        if polls_in_week(now).filter(store_id=only).exists():
            yield from store_inputs(now, [only])
        return
    for chunk in chunked(reported_store_ids(now, organization_id=report.organization_id), _LIVE_CHUNK):
        yield from store_inputs(now, chunk, contiguous=report.organization_id is None)
