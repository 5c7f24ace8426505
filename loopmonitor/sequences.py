"""Cutting a sorted list into consecutive slices: store chunks of a report, id lists small enough for ``IN (...)``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def chunked(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """Consecutive slices of ``items``, each ``size`` long but the last (``itertools.batched`` is Python 3.12)."""
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]
