"""Where rejected rows go: a few kept to show, every one written to a rejects CSV.

An import of a file with a million bad rows must not hold a million
:class:`~ingestion.errors.Rejection` objects: the ``ingest`` command and the
admin screens keep only the ones they show and stream the rest to disk.
"""

from __future__ import annotations

from typing import Protocol

from ingestion.errors import Rejection

REJECTS_HEADER = ("file", "line", "reason", "row")


class _Writer(Protocol):
    def writerow(self, row: tuple[str | int, ...], /) -> object: ...


class RejectsCollector:
    """An ``on_reject`` sink: keeps the first ``shown`` rejections, counts all, writes all to ``writer``.

    ``file_name`` replaces the path in the rejects file when the loaded file
    was a temporary copy (an upload).
    """

    def __init__(self, *, shown: int, writer: _Writer | None = None, file_name: str | None = None) -> None:
        self.shown = shown
        self.kept: list[Rejection] = []
        self.count = 0
        self._writer = writer
        self._file_name = file_name
        if writer is not None:
            writer.writerow(REJECTS_HEADER)

    def __call__(self, rejection: Rejection) -> None:
        self.count += 1
        if len(self.kept) < self.shown:
            self.kept.append(rejection)
        if self._writer is not None:
            self._writer.writerow((self._file_name or rejection.file, rejection.line, rejection.reason, rejection.raw))

    @property
    def not_shown(self) -> int:
        return self.count - len(self.kept)
