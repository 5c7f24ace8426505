"""Bulk upsert of polls, one implementation per database.

Both stage the file's valid rows in a temporary table and merge them into
``stores_poll`` with a few set-based statements inside the caller's
transaction. That shape gives the ingestion rules for free: a repeated
``(store, instant)`` keeps the status of the later row (the staged line
number decides), a repeated load changes nothing, and an error anywhere in
the file rolls the whole file back.

PostgreSQL stages with ``COPY`` while a thread parses the file, and merges
every ``_MERGE_EVERY`` rows, so parsing (Python) and merging (the database)
use both cores. The stage numbers its rows as they arrive, in file order,
which is all the merge needs to tell the later of two rows. Into an empty
polls table (a first load, a restore) it appends instead, each chunk sorted
by store and time (so a store's polls lie together on disk, as reports read
them), and builds the table's indexes once at the end, the way
``pg_restore`` does: sorting once is far cheaper than 1.8M btree insertions.
A file's canonical blocks skip the row parser altogether
(:mod:`ingestion.poll_blocks`).
SQLite stages with large ``executemany`` batches into a
``TEMP`` table, which never touches the main database file until the final
merge.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper

from ingestion.rows import PollRecord
from stores.models import Poll, Store

StagedPoll = tuple[int, PollRecord]
CopyBatch = tuple[int, "str | bytes"]
"""``(polls, text)``: that many lines of ``COPY`` text."""


class PollSource(Protocol):
    """A file's valid polls, in file order, in either of the two forms the loaders read."""

    def staged(self) -> Iterable[StagedPoll]:
        """Each valid poll with its line number (SQLite's stage keeps the line to tell the later row)."""

    def copy_batches(self) -> Iterable[CopyBatch]:
        """The valid polls as ``COPY`` lines of PostgreSQL's stage (:func:`copy_batches_of`)."""


_COPY_BATCH = 20_000
_MERGE_EVERY = 400_000
_SQLITE_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class PollCounts:
    staged: int
    inserted: int
    updated: int


def load_polls(source: PollSource) -> PollCounts:
    """Merge a file's valid polls into the polls table; call inside ``transaction.atomic()``."""
    if connection.vendor == "postgresql":
        return _load_postgresql(source.copy_batches())
    if connection.vendor == "sqlite":
        return _load_sqlite(source.staged())
    raise NotImplementedError(f"no bulk poll loader for {connection.vendor}")


def _copy_text(value: str) -> str:
    # Store ids never hold control characters (the parser refuses them), so a
    # backslash is the only character COPY's text format needs escaped. The
    # caller only calls this for ids holding one: the check is the hot path.
    return value.replace("\\", "\\\\")


def copy_batches_of(polls: Iterable[StagedPoll]) -> Iterator[CopyBatch]:
    """The polls as ``COPY`` lines of the stage: store, instant, status (the stage numbers them itself)."""
    batch: list[str] = []
    for _line, (store_id, timestamp, active) in polls:
        if "\\" in store_id:
            store_id = _copy_text(store_id)
        batch.append(f"{store_id}\t{timestamp}+00\t{'active' if active else 'inactive'}\n")
        if len(batch) == _COPY_BATCH:
            yield len(batch), "".join(batch)
            batch = []
    yield len(batch), "".join(batch)


class _CopyBatches:
    """Makes the ``COPY`` text on a thread of its own, a batch at a time.

    Parsing is Python work, merging is the database's: with the parser on a
    thread (the merge waits on the socket, releasing the GIL) the two run on
    both cores at once. An exception in the parser (a bad file) is handed
    over and raised in the caller's thread, inside its transaction.
    """

    _DONE = object()

    def __init__(self, batches: Iterable[CopyBatch]) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=32)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(batches,), name="poll-parser", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> None:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _produce(self, batches: Iterable[CopyBatch]) -> None:
        try:
            for batch in batches:
                self._put(batch)
                if self._stopping.is_set():
                    return
            self._put(self._DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put(error)

    def take(self) -> CopyBatch | None:
        """The next ``(rows, text)`` batch, or ``None`` at the end."""
        item = self._queue.get()
        if item is self._DONE:
            return None
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


def _load_postgresql(copy_batches: Iterable[CopyBatch]) -> PollCounts:
    """COPY into a staging table and merge it every ``_MERGE_EVERY`` rows while the parser reads on.

    Merging chunk by chunk, in file order and in one transaction, is the
    same as loading the chunks as files one after the other, so a later row
    still wins and the whole file still commits or rolls back as one. Into
    an empty table the chunks are appended instead and the indexes built
    once at the end (see ``_drop_indexes_if_empty``).
    """
    staged = inserted = updated = 0
    batches = _CopyBatches(copy_batches)
    try:
        with connection.cursor() as cursor:
            # ON COMMIT DROP alone is not enough when the caller's transaction is
            # a savepoint inside a longer one (tests, admin imports).
            cursor.execute("DROP TABLE IF EXISTS pg_temp.poll_staging, pg_temp.poll_changes")
            # ``seq`` numbers the rows as COPY stores them, in file order: of two rows
            # for one key, the higher is the later (the line number, without sending it).
            cursor.execute(
                'CREATE TEMP TABLE poll_staging (store_id text COLLATE "C", ts timestamptz, status text, '
                "seq bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP"
            )
            cursor.execute("SET LOCAL work_mem = '64MB'")
            # One writer at a time (readers, i.e. reports, go on): the merge
            # is only correct if no one else inserts the same keys meanwhile.
            cursor.execute(f"LOCK TABLE {Poll._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
            rebuild = _drop_indexes_if_empty(cursor)
            finished = False
            while not finished:
                in_chunk, finished = _copy(
                    cursor, "COPY poll_staging (store_id, ts, status) FROM STDIN", batches, limit=_MERGE_EVERY
                )
                staged += in_chunk
                if rebuild is None:
                    new, changed = _merge_staged(cursor)
                    updated += changed
                else:
                    new = _append_staged(cursor)
                inserted += new
            cursor.execute("DROP TABLE pg_temp.poll_staging")
            if rebuild is not None:
                inserted -= _rebuild_indexes(cursor, rebuild)
    finally:
        batches.stop()
    return PollCounts(staged=staged, inserted=inserted, updated=updated)


def _copy(cursor: CursorWrapper, statement: str, batches: _CopyBatches, *, limit: int) -> tuple[int, bool]:
    """Write batches into one ``COPY`` until ``limit`` rows or the end; returns the rows and whether it was the end."""
    rows = 0
    parse_error: BaseException | None = None
    finished = False
    with cursor.cursor.copy(statement) as copy:
        while rows < limit:
            try:
                batch = batches.take()
            except BaseException as error:  # noqa: BLE001 - raised below, once the COPY is closed
                # Raised inside the block, psycopg would abort the COPY with the
                # error's text as its message (megabytes for a huge header) and
                # log "error ignored terminating"; the rollback discards the rows.
                parse_error = error
                break
            if batch is None:
                finished = True
                break
            copy.write(batch[1])
            rows += batch[0]
    if parse_error is not None:
        raise parse_error
    return rows, finished


def _drop_indexes_if_empty(cursor: CursorWrapper) -> list[str] | None:
    """Drop the empty polls table's indexes and return the statements that rebuild them; ``None`` if not empty.

    DDL is transactional in PostgreSQL: if the load fails, the rollback
    brings the indexes back. Dropping takes an ACCESS EXCLUSIVE lock, so
    readers of the (empty) table wait for the load to commit. Indexes that
    another table's foreign key depends on stay.
    """
    table = Poll._meta.db_table
    cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute(
        """
        SELECT index.indexrelid::regclass::text, constraint_.conname,
               coalesce(pg_get_constraintdef(constraint_.oid), pg_get_indexdef(index.indexrelid))
        FROM pg_index AS index
        LEFT JOIN pg_constraint AS constraint_ ON constraint_.conindid = index.indexrelid
             AND constraint_.conrelid = index.indrelid
        WHERE index.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS f WHERE f.contype = 'f' AND f.conindid = index.indexrelid)
        ORDER BY constraint_.contype = 'p' DESC NULLS LAST, index.indexrelid
        """,
        [table],
    )
    rebuild: list[str] = []
    for index_name, constraint, definition in cursor.fetchall():
        if constraint is None:
            cursor.execute(f"DROP INDEX {index_name}")
            rebuild.append(definition)
        else:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
    return rebuild


def _append_staged(cursor: CursorWrapper) -> int:
    """Append the staged rows, the last of each key, by store and time, to the index-less table; empty the stage.

    No ``ANALYZE`` of the stage, unlike a merge: these two statements are a
    scan, a hash and a sort whatever the counts (``EXPLAIN``), and sampling
    the stage cost a first load of the 1x polls 1.9 s (15.1 s against 17.4 s).
    """
    _insert_staged_stores(cursor)
    cursor.execute(f"INSERT INTO {Poll._meta.db_table} (store_id, timestamp_utc, status) {_LATEST_STAGED}")
    inserted: int = cursor.rowcount
    cursor.execute("TRUNCATE poll_staging")
    return inserted


def _rebuild_indexes(cursor: CursorWrapper, statements: list[str]) -> int:
    """Rebuild the dropped indexes; returns how many rows were removed as superseded.

    A key repeated in two chunks was appended twice: the unique index then
    fails to build, the earlier copies (the lower ids, as chunks are
    appended in file order) are deleted and the index is built again.
    """
    table = Poll._meta.db_table
    cursor.execute("SET LOCAL maintenance_work_mem = '128MB'")
    removed = 0
    for statement in statements:
        try:
            with transaction.atomic():
                cursor.execute(statement)
        except IntegrityError:
            cursor.execute(
                f"""
                DELETE FROM {table} AS poll USING (
                    SELECT id, row_number() OVER (PARTITION BY store_id, timestamp_utc ORDER BY id DESC) AS rank
                    FROM {table}
                ) AS ranked
                WHERE ranked.rank > 1 AND ranked.id = poll.id
                """
            )
            removed = cursor.rowcount
            cursor.execute(statement)
    return removed


def _insert_staged_stores(cursor: CursorWrapper) -> None:
    cursor.execute(
        # In store-id order, the order every loader locks stores in (see
        # ingestion.services._lock_stores): two loads never wait on each other in a cycle.
        # Only the missing ones: ON CONFLICT's speculative insertion of 13.6k stores that all
        # exist cost an hourly file 0.19 s; a probe each is a fraction of that.
        f"INSERT INTO {Store._meta.db_table} (id) SELECT DISTINCT store_id FROM poll_staging AS staged "
        f"WHERE NOT EXISTS (SELECT 1 FROM {Store._meta.db_table} AS store WHERE store.id = staged.store_id) "
        "ORDER BY store_id ON CONFLICT (id) DO NOTHING"
    )


_LATEST_STAGED = """
    SELECT store_id, ts, status
    FROM (SELECT DISTINCT ON (store_id, ts) * FROM poll_staging ORDER BY store_id, ts, seq DESC) AS staged
"""


def _merge_staged(cursor: CursorWrapper) -> tuple[int, int]:
    """Merge the staged rows into the polls table and empty the stage; returns (inserted, updated)."""
    poll_table = Poll._meta.db_table
    # Temporary tables get no automatic statistics: without them the planner
    # cannot tell an hourly file (index probes) from a full reload (hash join).
    cursor.execute("ANALYZE poll_staging")
    _insert_staged_stores(cursor)
    # A staged key can only exist already if its store has a poll at or after
    # the store's earliest staged instant: one index probe per store. New
    # data (a first load, the next hour) skips the join below entirely.
    cursor.execute(
        f"""
        SELECT EXISTS (
            SELECT 1 FROM (SELECT store_id, min(ts) AS earliest FROM poll_staging GROUP BY store_id) AS staged
            WHERE EXISTS (
                SELECT 1 FROM {poll_table} AS poll
                WHERE poll.store_id = staged.store_id AND poll.timestamp_utc >= staged.earliest
            )
        )
        """
    )
    (may_overlap,) = cursor.fetchone()
    updated = 0
    if not may_overlap:
        cursor.execute(f"INSERT INTO {poll_table} (store_id, timestamp_utc, status) {_LATEST_STAGED}")
        inserted = cursor.rowcount
    else:
        # One join against the stored polls finds the new and the changed rows;
        # it is several times faster than ON CONFLICT's per-row speculative
        # insertion, and an unchanged re-load writes nothing.
        cursor.execute(
            f"""
            CREATE TEMP TABLE poll_changes ON COMMIT DROP AS
            WITH latest (store_id, ts, status) AS ({_LATEST_STAGED})
            SELECT latest.store_id, latest.ts, latest.status, poll.id AS poll_id
            FROM latest
            LEFT JOIN {poll_table} AS poll ON poll.store_id = latest.store_id AND poll.timestamp_utc = latest.ts
            WHERE poll.id IS NULL OR poll.status <> latest.status
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {poll_table} (store_id, timestamp_utc, status)
            SELECT store_id, ts, status FROM poll_changes WHERE poll_id IS NULL
            """
        )
        inserted = cursor.rowcount
        cursor.execute("SELECT count(*) FROM poll_changes WHERE poll_id IS NOT NULL")
        (changed,) = cursor.fetchone()
        if changed:  # rare: a status corrected by a later row; skip the join when there is none
            cursor.execute(
                f"""
                UPDATE {poll_table} AS poll SET status = changes.status
                FROM poll_changes AS changes WHERE changes.poll_id IS NOT NULL AND changes.poll_id = poll.id
                """
            )
            updated = cursor.rowcount
        cursor.execute("DROP TABLE pg_temp.poll_changes")
    cursor.execute("TRUNCATE poll_staging")
    return inserted, updated


def _load_sqlite(polls: Iterable[StagedPoll]) -> PollCounts:
    poll_table, store_table = Poll._meta.db_table, Store._meta.db_table
    staged = 0
    insert = "INSERT INTO temp.poll_staging VALUES (?, ?, ?, ?)"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS temp.poll_staging")
        cursor.execute("CREATE TEMP TABLE poll_staging (store_id text, ts text, status text, line integer)")
        try:
            batch: list[tuple[str, str, str, int]] = []
            for line, (store_id, timestamp, active) in polls:
                # The parser's text is exactly how Django keeps SQLite datetimes.
                batch.append((store_id, timestamp, "active" if active else "inactive", line))
                if len(batch) == _SQLITE_BATCH:
                    cursor.executemany(insert, batch)
                    staged += len(batch)
                    batch.clear()
            cursor.executemany(insert, batch)
            staged += len(batch)
            cursor.execute(f"INSERT OR IGNORE INTO {store_table} (id) SELECT DISTINCT store_id FROM temp.poll_staging")
            cursor.execute(f"SELECT count(*) FROM {poll_table}")
            before = cursor.fetchone()[0]
            # Only the last row of each key is merged, as PostgreSQL's DISTINCT ON
            # does, so a key repeated within the file is not counted as changed:
            # SQLite takes bare columns from the row that holds the max(). `WHERE
            # true` keeps SQLite from reading ON CONFLICT as a join clause.
            cursor.execute(
                f"""
                INSERT INTO {poll_table} (store_id, timestamp_utc, status)
                SELECT store_id, ts, status FROM (
                    SELECT store_id, ts, status, max(line) FROM temp.poll_staging GROUP BY store_id, ts
                ) WHERE true
                ON CONFLICT (store_id, timestamp_utc) DO UPDATE SET status = excluded.status
                WHERE status <> excluded.status
                """
            )
            affected = cursor.rowcount
            cursor.execute(f"SELECT count(*) FROM {poll_table}")
            inserted = cursor.fetchone()[0] - before
        finally:
            cursor.execute("DROP TABLE IF EXISTS temp.poll_staging")
    return PollCounts(staged=staged, inserted=inserted, updated=affected - inserted)
