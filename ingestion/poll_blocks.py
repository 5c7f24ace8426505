"""The real polls files' lines, checked a block at a time and handed to ``COPY`` as they are.

Read row by row, a polls line costs about 8 µs of Python here: the CSV
reader, the row object, the store-id, status and timestamp checks, the
record, the ``COPY`` line (docs/benchmarks.md). A first load reads 1.8M of
them on one core. But the files Loop sends have one shape, line after line::

    store_id,status,timestamp_utc
    8419537941919820732,active,2023-01-22 12:09:39.388884 UTC

So :class:`CanonicalBlocks` reads the file in blocks of bytes and lets one
regular expression, in C, check every line of a block at once; a block that
passes goes to the loader's ``COPY`` (CSV, ``ingestion.poll_loader``)
byte for byte. Rewriting each line into another form as well took four
times as long as checking it (4.1 µs a line against 1.1 µs, and 8 s of a
first load's Python). The expression accepts only lines that the row rules
(:mod:`stores.rules`, :func:`ingestion.rows.poll_from_fields`) accept with
the same store, status and instant, and that ``COPY`` reads as those:

* the store id by ``STORE_ID_RULE``, at most ``STORE_ID_MAX_LENGTH`` characters
  (none of them a CSV quote or separator);
* ``active`` or ``inactive`` exactly;
* ``YYYY-MM-DD HH:MM:SS`` with an optional fraction of 1-6 digits and an
  optional `` UTC`` (the loader reads a time without it in UTC too), a
  year from 1900 to 9998 and a date and time that exist (29 February is
  left to the row rules, which know leap years);
* a plain ``\\n`` at the end, no quotes, no blanks, nothing else.

The first block holding any other line (a rejected row, a quoted field, a
``\\r\\n``, a blank line, a last line without a newline) ends the fast road:
:attr:`CanonicalBlocks.rest` says where, and the rest of the file is read
row by row from there, with its true line numbers, as before. The fast road
is only taken from the start of a file whose header is exactly the one above.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ingestion.csvfile import FROM_THE_START, Rest
from stores.rules import STORE_ID_MAX_LENGTH

#: The header line the fast road needs (after an optional UTF-8 byte order mark).
CANONICAL_HEADER = b"store_id,status,timestamp_utc\n"
_BOM = b"\xef\xbb\xbf"

_STORE = rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,%d}" % (STORE_ID_MAX_LENGTH - 1)
_YEAR = rb"(?:19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_MONTH_DAY = (
    rb"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    rb"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rb"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_TIME = rb"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
_LINE = _STORE + rb",(?:active|inactive)," + _YEAR + rb"-" + _MONTH_DAY + rb" " + _TIME + rb"(?: UTC)?\n"
#: A block of canonical lines and nothing else (one match of the whole block is the cheapest check).
_BLOCK = re.compile(rb"(?:" + _LINE + rb")*")

BLOCK_BYTES = 1 << 20


class CanonicalBlocks:
    """``(lines, block)`` of each leading block of canonical lines; :attr:`rest` is set once they end.

    ``progress(bytes)`` is called after each block, as :class:`ingestion.csvfile.CsvRows` does.
    """

    def __init__(self, path: str, *, progress: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.progress = progress
        self.rest: Rest | None = None
        """``None`` until iterated; then where the rest begins, or ``None`` if every line was canonical."""

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError:
            self.rest = FROM_THE_START  # the row-by-row reader words the error
            return
        with raw:
            start = raw.read(len(_BOM) + len(CANONICAL_HEADER))
            header = start[len(_BOM) :] if start.startswith(_BOM) else start
            if not header.startswith(CANONICAL_HEADER):
                self.rest = FROM_THE_START
                return
            offset = len(start) - len(header) + len(CANONICAL_HEADER)
            line = 2
            raw.seek(offset)
            if self.progress is not None:
                self.progress(offset)
            carried = b""
            while True:
                read = raw.read(BLOCK_BYTES)
                block = carried + read
                cut = block.rfind(b"\n") + 1
                if not read or cut == 0:
                    # The end of the file, or one line longer than a block: row by row from here.
                    self.rest = Rest(offset, line) if block else None
                    return
                block, carried = block[:cut], block[cut:]
                if _BLOCK.fullmatch(block) is None:
                    self.rest = Rest(offset, line)
                    return
                lines = block.count(b"\n")
                yield lines, block
                offset += cut
                line += lines
                if self.progress is not None:
                    self.progress(cut)
