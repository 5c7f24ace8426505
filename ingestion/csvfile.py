"""Reading an input CSV by header name, streaming, with editor line numbers.

The input kinds are described by :class:`FileKind`: which columns are
required and which header spellings name each of them. Rows come out as
:class:`Row` values whose ``line`` counts like an editor does (the header is
line 1) and whose ``fields`` hold the required columns in
:attr:`FileKind.columns` order. Anything that stops the file as a whole from
being read (empty, not UTF-8 text, a NUL byte anywhere, not CSV, a required
column missing) is a :class:`~ingestion.errors.BadInputFile`; a row with a
missing field carries a :class:`~ingestion.errors.RejectedRow` for the caller
to report.
"""

from __future__ import annotations

import csv
import io
import operator
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from ingestion.errors import BadInputFile
from stores.rules import RejectedRow, echo

csv.field_size_limit(1024 * 1024)

MAX_HEADER_CHARACTERS = 8192
"""A real header is about 60 characters; a longer one is not an input file of ours."""


@dataclass(frozen=True)
class FileKind:
    name: str
    columns: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]

    def spellings(self, column: str) -> tuple[str, ...]:
        return self.aliases.get(column, (column,))


POLLS = FileKind("polls", ("store_id", "timestamp_utc", "status"), {})
HOURS = FileKind(
    "hours",
    ("store_id", "day_of_week", "start_time_local", "end_time_local"),
    {"day_of_week": ("day_of_week", "day", "dayOfWeek")},
)
TIMEZONES = FileKind("timezones", ("store_id", "timezone_str"), {})
OWNERS = FileKind("owners", ("store_id", "organization"), {})


@dataclass(frozen=True, slots=True)
class Rest:
    """Where reading starts: the byte offset of a line and that line's number (the header is line 1)."""

    offset: int
    line: int


#: The whole file, header included.
FROM_THE_START = Rest(0, 1)


class Row(NamedTuple):
    """One data row.

    ``fields`` holds the required columns in :attr:`FileKind.columns` order,
    ``""`` for any the row is too short to hold, in which case ``missing`` is
    set; ``cells`` is the row as the file has it, for the rejects report.
    """

    line: int
    fields: Sequence[str]
    cells: list[str]
    missing: RejectedRow | None = None

    def required(self) -> Sequence[str]:
        """The required fields; raises :class:`RejectedRow` when the row is too short."""
        if self.missing is not None:
            raise self.missing
        return self.fields


_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))


class _NulGuard(io.RawIOBase):
    """The file's bytes, refused at the first NUL.

    Python's csv module accepts NUL since 3.11; a NUL byte means binary or
    UTF-16 content, never a text CSV, so the whole file is refused. Checking
    each block read (in C) costs nothing next to checking each line.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.lines_before = 0
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count: int = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if not count:
            return 0
        block = bytes(memoryview(buffer)[:count])
        nul = block.find(b"\x00")
        if nul >= 0:
            # Binary content usually breaks UTF-8 before its first NUL: say that
            # first. The block may begin inside a character; skip that tail.
            prefix = block[:nul]
            (prefix.lstrip(_UTF8_CONTINUATION) if self.offset else prefix).decode("utf-8")
            line = self.lines_before + block.count(b"\n", 0, nul) + 1
            raise csv.Error(f"line {line} contains a NUL byte")
        self.lines_before += block.count(b"\n")
        self.offset += count
        return count


def _normalise(header: str) -> str:
    return header.strip().lower()


def _column_positions(kind: FileKind, header: list[str], path: str) -> list[int]:
    """Where each required column is; a column missing, or named twice (also by two aliases), makes the file bad.

    A repeated name would otherwise resolve silently to one of its columns,
    and the other column's values would be ignored without a word.
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(_normalise(name), []).append(index)
    found: list[int] = []
    missing: list[str] = []
    repeated: list[str] = []
    for column in kind.columns:
        spellings = dict.fromkeys(_normalise(spelling) for spelling in kind.spellings(column))
        indexes = sorted(index for spelling in spellings for index in positions.get(spelling, ()))
        if not indexes:
            missing.append(" or ".join(kind.spellings(column)))
        elif len(indexes) > 1:
            names = " and ".join(f"{echo(header[index].strip())!r} (column {index + 1})" for index in indexes)
            repeated.append(f"{column} is named {len(indexes)} times: {names}")
        else:
            found.append(indexes[0])
    if missing:
        raise BadInputFile(
            path,
            f"not a {kind.name} file: missing column {', '.join(missing)} (header is {echo(','.join(header))!r})",
        )
    if repeated:
        raise BadInputFile(path, f"ambiguous header: {'; '.join(repeated)}")
    return found


def _invalid_utf8_line(path: str) -> int | None:
    """The editor line of the first byte that is not UTF-8; ``None`` if there is none.

    Only called once decoding has failed: the decoder reports an offset in
    whatever block it was decoding, which means nothing to a user. A newline
    byte never occurs inside a UTF-8 sequence, so decoding line by line finds
    the same error.
    """
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _read_header(text: io.TextIOBase, path: str) -> tuple[list[str], int]:
    """The header's cells and the number of lines it took (blank lines before it are skipped).

    Read with a bounded ``readline``: a header of a million columns is
    refused after ``MAX_HEADER_CHARACTERS`` instead of being parsed whole.
    """
    lines = 0
    while True:
        line = text.readline(MAX_HEADER_CHARACTERS + 1)
        if not line:
            raise BadInputFile(path, "the file is empty")
        lines += 1
        if len(line) > MAX_HEADER_CHARACTERS:
            raise BadInputFile(path, f"the header line is longer than {MAX_HEADER_CHARACTERS} characters")
        cells = next(csv.reader([line]), [])
        if any(cell.strip() for cell in cells):
            return cells, lines


class CsvRows:
    """Iterate the rows of one input file.

    ``progress`` is called now and then with the number of bytes consumed
    since its last call, which is what a progress bar over the file size
    needs; it is cheap enough to leave on for the 100 MB polls file.
    """

    PROGRESS_EVERY = 20_000

    def __init__(self, path: Path | str, kind: FileKind, *, progress: Callable[[int], None] | None = None) -> None:
        self.path = str(path)
        self.kind = kind
        self.progress = progress

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)

    def __iter__(self) -> Iterator[Row]:
        return self.rows_from(FROM_THE_START)

    def rows_from(self, rest: Rest) -> Iterator[Row]:
        """The rows from ``rest`` on: all of them, or those after what :mod:`ingestion.poll_blocks` read."""
        try:
            raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as error:
            raise BadInputFile(self.path, f"cannot open: {error.strerror}") from None
        try:
            yield from self._rows(raw, rest)
        except UnicodeDecodeError:
            line = _invalid_utf8_line(self.path)
            where = f"line {line} holds bytes that are not UTF-8" if line else "it holds bytes that are not UTF-8"
            raise BadInputFile(self.path, f"not a UTF-8 text file ({where})") from None
        except csv.Error as error:
            raise BadInputFile(self.path, f"not a CSV file ({error})") from None
        finally:
            raw.close()

    def _rows(self, raw: BinaryIO, rest: Rest) -> Iterator[Row]:
        text = io.TextIOWrapper(io.BufferedReader(_NulGuard(raw), 1 << 16), encoding="utf-8-sig", newline="")
        header, header_lines = _read_header(text, self.path)
        positions = _column_positions(self.kind, header, self.path)
        reported = 0
        if rest != FROM_THE_START:
            # The header's reader has read ahead: read on from the line itself, on a reader of its own.
            text.detach()
            raw.seek(rest.offset)
            guard = _NulGuard(raw)
            guard.lines_before, guard.offset = rest.line - 1, rest.offset
            text = io.TextIOWrapper(io.BufferedReader(guard, 1 << 16), encoding="utf-8", newline="")
            header_lines, reported = rest.line - 1, rest.offset
        reader = csv.reader(text)
        pick = operator.itemgetter(*positions)
        width = max(positions) + 1
        progress = self.progress
        previous_line = header_lines
        for count, fields in enumerate(reader, 1):
            line = previous_line + 1
            previous_line = header_lines + reader.line_num
            if len(fields) < width:
                if not fields or not any(cell.strip() for cell in fields):
                    continue
                present = [fields[index] if index < len(fields) else "" for index in positions]
                missing = RejectedRow(f"missing field: expected {len(header)} columns, found {len(fields)}")
                yield Row(line, present, fields, missing)
                continue
            yield Row(line, pick(fields), fields)
            if progress is not None and count % self.PROGRESS_EVERY == 0:
                position = raw.tell()
                progress(position - reported)
                reported = position
        if progress is not None:
            progress(self.size - reported)
