"""Loading the three input files into the database.

``polls_ingest``, ``hours_ingest`` and ``timezones_ingest`` each read one
file, report every rejected row through ``on_reject`` and store the rest in
one transaction, so a file that turns out to be unreadable halfway stores
nothing. The rules they implement are SEMANTICS' "Input forms that must be
read"; the command, the admin import screens and the tests all go through
here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from django.db import transaction

from ingestion.csvfile import HOURS, POLLS, TIMEZONES, CsvRows, Row
from ingestion.errors import Rejection
from ingestion.poll_loader import StagedPoll, load_polls
from ingestion.rows import HoursRecord, TimezoneRecord, hours_from_fields, poll_from_fields, timezone_from_fields
from ingestion.statistics import refresh_planner_statistics
from operations.metrics import ingest_observe
from stores.models import BusinessHours, Poll, Store
from stores.rules import RejectedRow, echo, parse_store_id

RejectSink = Callable[[Rejection], None]
ProgressSink = Callable[[int], None]

_ID_CHUNK = 500

Record = TypeVar("Record", HoursRecord, TimezoneRecord)
Key = TypeVar("Key", str, int)
Shift = tuple[int, dt.time, dt.time]


def _chunks(ids: Sequence[Key]) -> Iterator[Sequence[Key]]:
    """Slices small enough for an ``IN (…)`` list on every backend."""
    for offset in range(0, len(ids), _ID_CHUNK):
        yield ids[offset : offset + _ID_CHUNK]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one file did to the database, for the summary line."""

    kind: str
    path: str
    read: int
    rejected: int
    inserted: int
    updated: int
    removed: int
    seconds: float
    kept: int = 0
    """Hours only: stores whose every row was rejected, so their schedule was left as it was."""

    @property
    def every_row_rejected(self) -> bool:
        """Rows were read and none was accepted: most likely the wrong file."""
        return self.read > 0 and self.rejected == self.read

    @property
    def stored(self) -> int:
        return self.inserted + self.updated

    def summary(self) -> str:
        changes = f"{self.inserted} new, {self.updated} changed"
        if self.kind == "hours":
            changes += f", {self.removed} removed"
        summary = f"{self.kind}: {self.read} read, {changes}, {self.rejected} rejected in {self.seconds:.1f} s"
        if self.kept:
            summary += f"; {self.kept} stores kept their schedule (every row for them was rejected)"
        return summary


_P = ParamSpec("_P")


def _counted(ingest: Callable[_P, IngestResult]) -> Callable[_P, IngestResult]:
    """Count a load's rows and rejects for Prometheus (operations.metrics), in whichever process loads."""

    @functools.wraps(ingest)
    def counted(*args: _P.args, **kwargs: _P.kwargs) -> IngestResult:
        result = ingest(*args, **kwargs)
        ingest_observe(kind=result.kind, read=result.read, rejected=result.rejected)
        return result

    return counted


def _ignore(_: object) -> None:
    return None


class _Rejections:
    """Counts rejections and forwards each one with its file and line."""

    def __init__(self, path: str, sink: RejectSink) -> None:
        self.path = path
        self.sink = sink
        self.count = 0

    def add(self, row: Row, error: RejectedRow) -> None:
        self.count += 1
        self.sink(Rejection(self.path, row.line, error.reason, _echo_row(row.cells)))


_ECHOED_ROW_CHARACTERS = 1000


def _echo_row(cells: Sequence[str]) -> str:
    """The row for the rejects report, each cell and the whole cut short: a 1 MB field stays in the file."""
    shown: list[str] = []
    length = 0
    for cell in cells:
        shown.append(echo(cell))
        length += len(shown[-1]) + 1
        if length > _ECHOED_ROW_CHARACTERS:
            break
    return echo(",".join(shown) + ("" if len(shown) == len(cells) else ",…"), _ECHOED_ROW_CHARACTERS)


@_counted
def polls_ingest(
    *, path: Path | str, on_reject: RejectSink = _ignore, on_progress: ProgressSink | None = None
) -> IngestResult:
    """Upsert polls by ``(store, instant)``; a later row wins. Streams the file."""
    started = time.perf_counter()
    rows = CsvRows(path, POLLS, progress=on_progress)
    rejections = _Rejections(rows.path, on_reject)

    def valid_polls() -> Iterator[StagedPoll]:
        for row in rows:
            try:
                poll = poll_from_fields(row.required())
            except RejectedRow as error:
                rejections.add(row, error)
                continue
            yield row.line, poll

    with transaction.atomic():
        counts = load_polls(valid_polls())
        refresh_planner_statistics(Poll, changed=counts.inserted + counts.updated)
    return IngestResult(
        kind="polls",
        path=rows.path,
        read=counts.staged + rejections.count,
        rejected=rejections.count,
        inserted=counts.inserted,
        updated=counts.updated,
        removed=0,
        seconds=time.perf_counter() - started,
    )


def _parse_all(
    rows: CsvRows, parse: Callable[[Sequence[str]], Record], rejections: _Rejections
) -> tuple[list[Record], set[str]]:
    """Parse a small file completely; returns the valid records and the readable store ids of rejected rows.

    The hours rule needs both: a store with accepted rows gets them as its
    schedule, a store named only by rejected rows keeps the one it had.
    """
    records: list[Record] = []
    rejected: set[str] = set()
    for row in rows:
        try:
            record = parse(row.required())
        except RejectedRow as error:
            rejections.add(row, error)
            with contextlib.suppress(RejectedRow):
                rejected.add(parse_store_id(row.fields[0]))
            continue
        records.append(record)
    return records, rejected


def _lock_stores(stores: Iterable[Store]) -> None:
    """Create the stores that are missing, then lock every one of them, all in store-id order.

    Call inside the load's transaction. Two loads of the same stores at once
    (the admin screen and a cron job, a double submit) then run one after
    the other per store instead of both reading the old schedule and both
    adding theirs, and a load that races another one creating the same store
    waits for it instead of failing on the primary key. One order for
    everyone (the poll loader inserts stores in it too) means no deadlock.
    PostgreSQL only; SQLite has one writer at a time anyway.
    """
    ordered = sorted(stores, key=lambda store: store.id)
    Store.objects.bulk_create(ordered, ignore_conflicts=True, batch_size=2000)
    for chunk in _chunks([store.id for store in ordered]):
        list(Store.objects.select_for_update().filter(id__in=chunk).order_by("id").values_list("id", flat=True))


@_counted
def hours_ingest(
    *, path: Path | str, on_reject: RejectSink = _ignore, on_progress: ProgressSink | None = None
) -> IngestResult:
    """Replace the whole schedule of every store with an accepted row in the file; leave other stores alone.

    A store whose every row in the file was rejected keeps the schedule it
    had (SEMANTICS v2: a rejected row counts as absent); the result counts
    such stores in ``kept``. Identical
    rows within one file are stored once. Rows already stored exactly as
    the file has them are kept, so loading the same file again changes
    nothing and reports ``0 new, 0 removed``.
    """
    started = time.perf_counter()
    rows = CsvRows(path, HOURS, progress=on_progress)
    rejections = _Rejections(rows.path, on_reject)
    records, rejected = _parse_all(rows, hours_from_fields, rejections)
    named = {record.store_id for record in records}
    to_add: dict[str, set[Shift]] = {store_id: set() for store_id in named}
    for record in records:
        to_add[record.store_id].add((record.day_of_week, record.start_time_local, record.end_time_local))
    with transaction.atomic():
        ordered = sorted(named)
        _lock_stores(Store(id=store_id) for store_id in ordered)
        stale: list[int] = []
        for chunk in _chunks(ordered):
            stored = BusinessHours.objects.filter(store_id__in=chunk).values_list(
                "pk", "store_id", "day_of_week", "start_time_local", "end_time_local"
            )
            for pk, store_id, day, start, end in stored:
                wanted = to_add[store_id]
                if (day, start, end) in wanted:
                    wanted.discard((day, start, end))  # a second stored copy of it is stale
                else:
                    stale.append(pk)
        for pks in _chunks(stale):
            BusinessHours.objects.filter(pk__in=pks).delete()
        new = [
            BusinessHours(store_id=store_id, day_of_week=day, start_time_local=start, end_time_local=end)
            for store_id in ordered
            for day, start, end in sorted(to_add[store_id])
        ]
        BusinessHours.objects.bulk_create(new, batch_size=5000)
        refresh_planner_statistics(BusinessHours, changed=len(new) + len(stale))
    return IngestResult(
        kind="hours",
        path=rows.path,
        read=len(records) + rejections.count,
        rejected=rejections.count,
        inserted=len(new),
        updated=0,
        removed=len(stale),
        seconds=time.perf_counter() - started,
        kept=len(rejected - named),
    )


@_counted
def timezones_ingest(
    *, path: Path | str, on_reject: RejectSink = _ignore, on_progress: ProgressSink | None = None
) -> IngestResult:
    """Set each named store's zone; a later row for the same store wins, a rejected row changes nothing."""
    started = time.perf_counter()
    rows = CsvRows(path, TIMEZONES, progress=on_progress)
    rejections = _Rejections(rows.path, on_reject)
    records, _ = _parse_all(rows, timezone_from_fields, rejections)
    zones = {record.store_id: record.timezone for record in records}
    ordered = sorted(zones)
    with transaction.atomic():
        existed: set[str] = set()
        for chunk in _chunks(ordered):
            existed.update(Store.objects.filter(id__in=chunk).values_list("id", flat=True))
        # A new store gets its zone as it is created; one created meanwhile by
        # another load is then updated below like any stored store.
        _lock_stores(Store(id=store_id, timezone=zones[store_id]) for store_id in ordered)
        current: dict[str, str | None] = {}
        for chunk in _chunks(ordered):
            current.update(Store.objects.filter(id__in=chunk).values_list("id", "timezone"))
        changed = [
            Store(id=store_id, timezone=zones[store_id]) for store_id in ordered if current[store_id] != zones[store_id]
        ]
        Store.objects.bulk_update(changed, ["timezone"], batch_size=2000)
        inserted = len(zones) - len(existed)
        updated = sum(1 for store in changed if store.id in existed)
        refresh_planner_statistics(Store, changed=inserted + updated)
    return IngestResult(
        kind="timezones",
        path=rows.path,
        read=len(records) + rejections.count,
        rejected=rejections.count,
        inserted=inserted,
        updated=updated,
        removed=0,
        seconds=time.perf_counter() - started,
    )
