"""The two kinds of user mistake an input file can hold.

A :class:`~stores.rules.RejectedRow` (a broken input rule, defined with the
rules) costs one row: it is reported with its file, line and
reason and the rest of the file loads. A :class:`BadInputFile` costs the
whole file: nothing from it is stored. Both are turned into messages at the
edge (the ``ingest`` command, the admin import screens), never tracebacks.
"""

from __future__ import annotations

from dataclasses import dataclass


class BadInputFile(Exception):
    """The file as a whole cannot be read: empty, not CSV, or a required column is missing."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected row as reported to the user: where it was and why."""

    file: str
    line: int
    reason: str
    raw: str
