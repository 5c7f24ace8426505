"""``manage.py build_report``: compute the uptime report synchronously, with the workers' code."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from reports.services import NoPollsError, report_now, report_write_csv
from stores.rules import EARLIEST_INSTANT, END_OF_INSTANTS, RANGE_TEXT, echo, parse_iso_datetime


def parse_as_of(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (or any ISO 8601 form, read strictly), as UTC unless it names an offset."""
    try:
        value = parse_iso_datetime(text.strip().removesuffix(" UTC"))
    except ValueError:
        raise CommandError(f"--as-of {echo(text)!r} is not a time like '2023-01-25 18:00:00'") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not EARLIEST_INSTANT <= value < END_OF_INSTANTS:
        raise CommandError(f"--as-of {text!r} is out of range: it must be {RANGE_TEXT}")
    return value


class Command(BaseCommand):
    help = "Compute the uptime report now and write its CSV (the same code the workers run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="the report's `now` in UTC; default: the latest poll")
        parser.add_argument("--output", "-o", type=Path, help="CSV file to write; default: standard output")
        parser.add_argument("--chunk-size", type=int, help="stores per database chunk")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
        try:
            now = report_now(as_of)
        except NoPollsError as error:
            raise CommandError(str(error)) from None
        # call_command() passes options as given, without the parser's type=Path.
        output = Path(options["output"]) if options["output"] else None
        try:
            out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror}") from None
        with tqdm(unit=" stores", disable=not sys.stderr.isatty() or output is None, leave=False) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                summary = report_write_csv(now=now, out=out, chunk_size=options["chunk_size"], on_progress=progress)
            finally:
                if output:
                    out.close()
        self.stderr.write(
            f"report: {summary.rows} rows, now={summary.now.isoformat()}, "
            f"{summary.seconds:.2f} s wall" + (f" -> {output}" if output else "")
        )
