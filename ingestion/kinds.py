"""The kinds of input file, each with its loader: the one table every entry point reads.

The ``ingest`` command's options, the ``/ingest/<kind>`` endpoints, the
inbox's file-name prefixes and :class:`~ingestion.models.IngestRun`'s ``kind``
choices all come from :data:`INGEST_KINDS`, so a new kind of file is one
line here (and its loader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ingestion.csvfile import HOURS, OWNERS, POLLS, TIMEZONES, FileKind
from ingestion.services import IngestResult, hours_ingest, owners_ingest, polls_ingest, timezones_ingest


@dataclass(frozen=True, slots=True)
class IngestKind:
    name: str
    columns: FileKind
    """The CSV header it needs: checked before a large upload is queued."""
    load: Callable[..., IngestResult]
    """``load(path=…, on_reject=…, on_progress=…)``, plus ``json=True`` when :attr:`accepts_json`."""
    accepts_json: bool = False
    """Whether the API also takes a JSON array of objects for it."""


#: In the order the ``ingest`` command loads them when given several (stores' zones first, owners last).
INGEST_KINDS: dict[str, IngestKind] = {
    kind.name: kind
    for kind in (
        IngestKind("timezones", TIMEZONES, timezones_ingest),
        IngestKind("hours", HOURS, hours_ingest),
        IngestKind("polls", POLLS, polls_ingest, accepts_json=True),
        IngestKind("owners", OWNERS, owners_ingest),  # after polls: stores a poll file creates can be given away
    )
}


def ingest_kind_choices() -> list[tuple[str, str]]:
    """``IngestRun.kind``'s choices; a callable, so a new kind needs no migration."""
    return [(name, name) for name in INGEST_KINDS]
