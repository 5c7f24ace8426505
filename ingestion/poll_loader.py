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
polls table (a first load, a restore) it stages nothing: it drops the
table's indexes, copies the file straight into the table in file order and
builds the indexes once at the end, the way ``pg_restore`` does (sorting
once is far cheaper than 1.8M btree insertions). A file's canonical blocks
skip the row parser altogether and reach ``COPY`` as they are
(:mod:`ingestion.poll_blocks`); the row parser writes the same CSV lines.
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
"""``(polls, text)``: that many ``COPY`` lines, ``store_id,status,timestamp_utc`` as the files have them."""


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


def copy_batches_of(polls: Iterable[StagedPoll]) -> Iterator[CopyBatch]:
    """The polls as ``COPY`` lines in the polls files' own CSV form (:func:`_copy_into`).

    Nothing needs quoting: the row rules admit no comma, quote or line break
    in a store id, and the instant is naive UTC text (the loader reads it in UTC).
    """
    batch: list[str] = []
    for _line, (store_id, timestamp, active) in polls:
        batch.append(f"{store_id},{'active' if active else 'inactive'},{timestamp}\n")
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
    #: Batches parsed ahead of the ``COPY``: a few keep both cores busy. The
    #: canonical blocks are checked faster than the database reads them, so
    #: the queue stays full, and each batch is about a megabyte (32 cost a
    #: first load 40 MB more peak memory than 8, and no time).
    _AHEAD = 8

    def __init__(self, batches: Iterable[CopyBatch]) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self._AHEAD)
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
    """Append a first load in file order; else COPY into a stage and merge it every ``_MERGE_EVERY`` rows.

    Merging chunk by chunk, in file order and in one transaction, is the
    same as loading the chunks as files one after the other, so a later row
    still wins and the whole file still commits or rolls back as one.
    """
    with connection.cursor() as cursor:
        # One writer at a time (readers, i.e. reports, go on): the merge
        # is only correct if no one else inserts the same keys meanwhile.
        cursor.execute(f"LOCK TABLE {Poll._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        # The lines' times are UTC, most without saying so (the ones with " UTC" say it themselves).
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
        rebuild = _drop_indexes_if_empty(cursor)
        batches = _CopyBatches(copy_batches)
        try:
            if rebuild is not None:
                return _append_in_file_order(cursor, batches, rebuild)
            return _merge_in_chunks(cursor, batches)
        finally:
            batches.stop()


def _append_in_file_order(cursor: CursorWrapper, batches: _CopyBatches, rebuild: list[str]) -> PollCounts:
    """COPY the whole file, as it comes, into the empty index-less polls table; then build its indexes.

    The way ``pg_restore`` loads a table: one ``COPY`` parses each line once
    and writes the table a page at a time. Staging, then appending each
    400k rows sorted with ``INSERT … SELECT``, wrote it row by row: the
    stage's ``COPY``, the stores and the appends took 16.6 s of a 22.3 s
    first load of the 1x polls here, where this ``COPY`` takes 7.8 s.
    Reports do not mind the order the rows lie in: they read the (store,
    time) index alone, which carries status and id (migration
    ``stores/0007``). ``FREEZE`` marks the pages all-visible as they are
    written, which is what lets those reads skip the table before any
    ``VACUUM``; it needs the table emptied in this transaction, hence the
    ``TRUNCATE`` (of an empty table, under the lock the index drop took
    already). Frozen rows are visible to every snapshot once committed,
    older ones too; a report planned before the load still reads none of
    them, as it reads no poll above its ``max_poll_id``.

    A key repeated in the file is settled where the unique index is built
    (``_rebuild_indexes``): the rows' ids are in file order, so the later
    row wins there as in a merge.
    """
    table = Poll._meta.db_table
    cursor.execute(f"TRUNCATE {table}")
    staged, _ = _copy(cursor, _copy_into(table, "timestamp_utc", freeze=True), batches)
    removed = _rebuild_indexes(cursor, rebuild)
    _insert_missing_stores(cursor, _distinct_polled_stores(table))
    return PollCounts(staged=staged, inserted=staged - removed, updated=0)


def _distinct_polled_stores(table: str) -> str:
    """The distinct store ids of the polls table, one (store, time) index probe per store.

    PostgreSQL 15 has no skip scan: ``SELECT DISTINCT`` reads and hashes all
    1.8M rows of a first load (1.45 s here). Asking the index for the next
    store after each one, recursively (the "loose index scan" of the
    PostgreSQL wiki), reads 13.6k index entries instead (0.36 s).
    """
    return f"""
        WITH RECURSIVE found (store_id) AS (
            (SELECT store_id FROM {table} ORDER BY store_id LIMIT 1)
            UNION ALL
            SELECT (SELECT poll.store_id FROM {table} AS poll WHERE poll.store_id > found.store_id
                    ORDER BY poll.store_id LIMIT 1)
            FROM found WHERE found.store_id IS NOT NULL
        )
        SELECT store_id FROM found WHERE store_id IS NOT NULL
    """


def _merge_in_chunks(cursor: CursorWrapper, batches: _CopyBatches) -> PollCounts:
    staged = inserted = updated = 0
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
    finished = False
    while not finished:
        in_chunk, finished = _copy(cursor, _copy_into("poll_staging", "ts"), batches, limit=_MERGE_EVERY)
        staged += in_chunk
        new, changed = _merge_staged(cursor)
        inserted += new
        updated += changed
    cursor.execute("DROP TABLE pg_temp.poll_staging")
    return PollCounts(staged=staged, inserted=inserted, updated=updated)


def _copy_into(table: str, timestamp_column: str, *, freeze: bool = False) -> str:
    """The ``COPY`` that reads :data:`CopyBatch` lines into ``table``: CSV, in the polls files' column order."""
    return f"COPY {table} (store_id, status, {timestamp_column}) FROM STDIN (FORMAT csv{', FREEZE' if freeze else ''})"


def _copy(
    cursor: CursorWrapper, statement: str, batches: _CopyBatches, *, limit: int | None = None
) -> tuple[int, bool]:
    """Write batches into one ``COPY`` until ``limit`` rows or the end; returns the rows and whether it was the end."""
    rows = 0
    parse_error: BaseException | None = None
    finished = False
    with cursor.cursor.copy(statement) as copy:
        while limit is None or rows < limit:
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


def _rebuild_indexes(cursor: CursorWrapper, statements: list[str]) -> int:
    """Rebuild the dropped indexes; returns how many rows were removed as superseded.

    A key repeated in the file was appended twice: the unique index then
    fails to build, the earlier copies (the lower ids, as the file is
    appended in its own order) are deleted and the index is built again.
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


def _insert_missing_stores(cursor: CursorWrapper, store_ids: str) -> None:
    """Insert the stores of ``store_ids`` (a query of distinct ``store_id``) that are not stored yet."""
    store_table = Store._meta.db_table
    cursor.execute(
        # In store-id order, the order every loader locks stores in (see
        # ingestion.services._lock_stores): two loads never wait on each other in a cycle.
        # Only the missing ones: ON CONFLICT's speculative insertion of 13.6k stores that all
        # exist cost an hourly file 0.19 s; a probe each is a fraction of that.
        f"INSERT INTO {store_table} (id) SELECT store_id FROM ({store_ids}) AS polled "
        f"WHERE NOT EXISTS (SELECT 1 FROM {store_table} AS store WHERE store.id = polled.store_id) "
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
    _insert_missing_stores(cursor, "SELECT DISTINCT store_id FROM poll_staging")
    # A staged key can only exist already if its store has a poll at or after
    # the store's earliest staged instant: one index probe per store. New
    # data (the next hour) skips the join below entirely.
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
