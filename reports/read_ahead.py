"""Reading the next chunk's inputs while the engine computes this one.

``build_report`` alternates between waiting on PostgreSQL (a chunk's polls)
and computing in Python (the engine, the CSV). The database runs in its own
process, so on two cores both can be busy: a reader thread fetches chunk
``k + 1`` on its own connection while the caller computes chunk ``k``.

The reader's connection imports the report's snapshot
(``SET TRANSACTION SNAPSHOT``, the id :func:`reports.services.consistent_read`
exports), so it reads exactly what the caller's transaction sees. Without a
snapshot id (SQLite, or inside a caller's own transaction, as in tests) the
chunks are read in the caller's thread, one after the other: the same inputs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

from django.db import connection, transaction

Chunk = TypeVar("Chunk")
Inputs = TypeVar("Inputs")

#: Chunks read ahead of the one being computed: one keeps the database busy
#: while Python computes, and memory to about three chunks' inputs.
_AHEAD = 1
_POLL_SECONDS = 0.1


class _Finished:
    """The reader's last item: every chunk was read."""


def inputs_read_ahead(
    read: Callable[[Chunk], Inputs], chunks: Iterable[Chunk], snapshot: str | None
) -> Generator[Inputs, None, None]:
    """``read(chunk)`` for each chunk, in order; the next one read on a second connection meanwhile.

    ``snapshot`` is the exported snapshot of the caller's read transaction, or
    ``None`` to read in this thread. An error in the reader is raised here.
    """
    if snapshot is None:
        for chunk in chunks:
            yield read(chunk)
        return
    ready: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_in_snapshot, args=(read, chunks, snapshot, ready, stop), name="report-read-ahead", daemon=True
    )
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, _Finished):
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


def _read_in_snapshot(
    read: Callable[[Chunk], object],
    chunks: Iterable[Chunk],
    snapshot: str,
    ready: queue.Queue[object],
    stop: threading.Event,
) -> None:
    """The reader thread: this thread's own connection, in the caller's snapshot, until done or stopped."""

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            for chunk in chunks:
                if not hand_over(read(chunk)):
                    return
        hand_over(_Finished())
    except BaseException as error:  # handed to the caller, who raises it
        hand_over(error)
    finally:
        connection.close()
