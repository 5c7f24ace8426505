"""Cutting a sorted list or stream into consecutive slices: a report's store chunks, ids few enough for ``IN (...)``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

Item = TypeVar("Item")


def chunked(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """Consecutive slices of ``items``, each ``size`` long but the last (``itertools.batched`` is Python 3.12)."""
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """:func:`chunked` for a stream: consecutive lists of ``size`` items but the last, read as they are needed."""
    stream = iter(items)
    while batch := list(islice(stream, size)):
        yield batch
