"""Loading the input files into the database.

``polls_ingest``, ``hours_ingest``, ``timezones_ingest`` and ``owners_ingest`` each read one
file, report every rejected row through ``on_reject`` and store the rest in
one transaction, so a file that turns out to be unreadable halfway stores
nothing. The rules they implement are SEMANTICS' "Input forms that must be
read"; the command, the admin import screens and the tests all go through
here. A file that changed something bumps the data version
(:mod:`stores.data_version`), last in its transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from django.db import connection, transaction

from ingestion.csvfile import HOURS, OWNERS, POLLS, TIMEZONES, CsvRows, Row
from ingestion.errors import Rejection
from ingestion.jsonrows import JsonRows
from ingestion.poll_blocks import CanonicalBlocks
from ingestion.poll_loader import CopyBatch, StagedPoll, copy_batches_of, load_polls
from ingestion.rows import (
    HoursRecord,
    OwnerRecord,
    TimezoneRecord,
    hours_from_fields,
    owner_from_fields,
    poll_from_fields,
    timezone_from_fields,
)
from ingestion.schedule_loader import hours_replace_postgresql, schedule_changes, timezones_set_postgresql
from ingestion.statistics import refresh_planner_statistics
from loopmonitor.sequences import chunked
from operations.metrics import ingest_observe
from organizations.models import Organization
from stores.data_version import data_version_bump
from stores.models import BusinessHours, Poll, Store
from stores.rules import RejectedRow, echo, parse_store_id

RejectSink = Callable[[Rejection], None]
ProgressSink = Callable[[int], None]

#: Ids per ``IN (…)`` list: small enough for every backend.
_ID_CHUNK = 500

Record = TypeVar("Record", HoursRecord, TimezoneRecord, OwnerRecord)
Key = TypeVar("Key", str, int)
Shift = tuple[int, dt.time, dt.time]


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
    organizations_created: int = 0
    """Owners only: organizations the file named that did not exist."""

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
        if self.organizations_created:
            summary += f"; {self.organizations_created} organizations created"
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


class _PollFile:
    """A polls file as :class:`~ingestion.poll_loader.PollSource`: its valid polls, its rejections counted.

    For PostgreSQL's ``COPY`` (:func:`~ingestion.poll_loader.copy_batches_of`),
    a CSV file's leading canonical blocks are copied as they are rewritten
    (:mod:`ingestion.poll_blocks`), and only the rest is parsed row by row.
    """

    def __init__(
        self, rows: CsvRows | JsonRows, rejections: _Rejections, *, progress: ProgressSink | None
    ) -> None:
        self.rows = rows
        self.rejections = rejections
        self.progress = progress

    def staged(self) -> Iterator[StagedPoll]:
        return self._valid(iter(self.rows))

    def copy_batches(self) -> Iterator[CopyBatch]:
        if isinstance(self.rows, JsonRows):
            yield from copy_batches_of(self.staged())
            return
        blocks = CanonicalBlocks(self.rows.path, progress=self.progress)
        yield from blocks
        if blocks.rest is not None:
            yield from copy_batches_of(self._valid(self.rows.rows_from(blocks.rest)))

    def _valid(self, rows: Iterator[Row]) -> Iterator[StagedPoll]:
        for row in rows:
            try:
                poll = poll_from_fields(row.required())
            except RejectedRow as error:
                self.rejections.add(row, error)
                continue
            yield row.line, poll


@_counted
def polls_ingest(
    *, path: Path | str, on_reject: RejectSink = _ignore, on_progress: ProgressSink | None = None, json: bool = False
) -> IngestResult:
    """Upsert polls by ``(store, instant)``; a later row wins. Streams a CSV file.

    ``json``: the file is a JSON array of objects instead (:mod:`ingestion.jsonrows`).
    """
    started = time.perf_counter()
    rows: CsvRows | JsonRows = (JsonRows if json else CsvRows)(path, POLLS, progress=on_progress)
    source = _PollFile(rows, _Rejections(rows.path, on_reject), progress=on_progress)
    with transaction.atomic():
        counts = load_polls(source)
        refresh_planner_statistics(Poll, changed=counts.inserted + counts.updated)
        if counts.inserted + counts.updated:
            data_version_bump()
    return IngestResult(
        kind="polls",
        path=rows.path,
        read=counts.staged + source.rejections.count,
        rejected=source.rejections.count,
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
    for chunk in chunked([store.id for store in ordered], _ID_CHUNK):
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
    to_add: defaultdict[str, set[Shift]] = defaultdict(set)
    for record in records:
        to_add[record.store_id].add(record[1:])
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted, removed = hours_replace_postgresql(dict(to_add))
        else:
            inserted, removed = _hours_replace_orm(dict(to_add))
        refresh_planner_statistics(BusinessHours, changed=inserted + removed)
        if inserted + removed:
            data_version_bump()
    return IngestResult(
        kind="hours",
        path=rows.path,
        read=len(records) + rejections.count,
        rejected=rejections.count,
        inserted=inserted,
        updated=0,
        removed=removed,
        seconds=time.perf_counter() - started,
        kept=len(rejected - to_add.keys()),
    )


def _hours_replace_orm(to_add: dict[str, set[Shift]]) -> tuple[int, int]:
    """SQLite's way of :func:`~ingestion.schedule_loader.hours_replace_postgresql`; returns (inserted, removed)."""
    ordered = sorted(to_add)
    _lock_stores(Store(id=store_id) for store_id in ordered)
    stored = (
        row
        for chunk in chunked(ordered, _ID_CHUNK)
        for row in BusinessHours.objects.filter(store_id__in=chunk)
        .order_by("pk")  # of two stored copies of a row, the older is kept
        .values_list("pk", "store_id", "day_of_week", "start_time_local", "end_time_local")
    )
    stale, new = schedule_changes(to_add, stored)
    for pks in chunked(stale, _ID_CHUNK):
        BusinessHours.objects.filter(pk__in=pks).delete()
    BusinessHours.objects.bulk_create(
        (
            BusinessHours(store_id=store_id, day_of_week=day, start_time_local=start, end_time_local=end)
            for store_id, day, start, end in new
        ),
        batch_size=5000,
    )
    return len(new), len(stale)


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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted, updated = timezones_set_postgresql(zones)
        else:
            inserted, updated = _timezones_set_orm(zones)
        refresh_planner_statistics(Store, changed=inserted + updated)
        if inserted + updated:
            data_version_bump()
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


def _timezones_set_orm(zones: dict[str, str]) -> tuple[int, int]:
    """SQLite's way of :func:`~ingestion.schedule_loader.timezones_set_postgresql`; returns (created, changed)."""
    ordered = sorted(zones)
    existed: set[str] = set()
    for chunk in chunked(ordered, _ID_CHUNK):
        existed.update(Store.objects.filter(id__in=chunk).values_list("id", flat=True))
    # A new store gets its zone as it is created; one created meanwhile by
    # another load is then updated below like any stored store.
    _lock_stores(Store(id=store_id, timezone=zones[store_id]) for store_id in ordered)
    current: dict[str, str | None] = {}
    for chunk in chunked(ordered, _ID_CHUNK):
        current.update(Store.objects.filter(id__in=chunk).values_list("id", "timezone"))
    changed = [
        Store(id=store_id, timezone=zones[store_id]) for store_id in ordered if current[store_id] != zones[store_id]
    ]
    Store.objects.bulk_update(changed, ["timezone"], batch_size=2000)
    inserted = len(zones) - len(existed)
    updated = sum(1 for store in changed if store.id in existed)
    return inserted, updated
@_counted
def owners_ingest(
    *, path: Path | str, on_reject: RejectSink = _ignore, on_progress: ProgressSink | None = None
) -> IngestResult:
    """Give each named store to its organization (created when missing); a later row moves the store again.

    A store the file does not name, or names only in rejected rows, keeps
    its organization. ``inserted`` counts stores that had none (or did not
    exist), ``updated`` stores moved from another organization.
    """
    started = time.perf_counter()
    rows = CsvRows(path, OWNERS, progress=on_progress)
    rejections = _Rejections(rows.path, on_reject)
    records, _ = _parse_all(rows, owner_from_fields, rejections)
    owners = {record.store_id: record.organization for record in records}
    ordered = sorted(owners)
    slugs = sorted(set(owners.values()))
    with transaction.atomic():
        existing = set(Organization.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        Organization.objects.bulk_create(
            [Organization(slug=slug, name=slug) for slug in slugs if slug not in existing], ignore_conflicts=True
        )
        organization_ids = dict(Organization.objects.filter(slug__in=slugs).values_list("slug", "id"))
        _lock_stores(Store(id=store_id) for store_id in ordered)
        current: dict[str, int | None] = {}
        for chunk in chunked(ordered, _ID_CHUNK):
            current.update(Store.objects.filter(id__in=chunk).values_list("id", "organization_id"))
        changed = [
            Store(id=store_id, organization_id=organization_ids[owners[store_id]])
            for store_id in ordered
            if current[store_id] != organization_ids[owners[store_id]]
        ]
        Store.objects.bulk_update(changed, ["organization"], batch_size=2000)
        updated = sum(1 for store in changed if current[store.id] is not None)
        if changed:
            data_version_bump()
    return IngestResult(
        kind="owners",
        path=rows.path,
        read=len(records) + rejections.count,
        rejected=rejections.count,
        inserted=len(changed) - updated,
        updated=updated,
        removed=0,
        seconds=time.perf_counter() - started,
        organizations_created=len(organization_ids) - len(existing),
    )
