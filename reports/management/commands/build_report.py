"""``manage.py build_report``: compute the uptime report synchronously, with the workers' code."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from reports.period_services import BadPeriod, Period, period_resolve, report_write_period_csv
from reports.services import NoPollsError, report_now, report_write_csv
from stores.rules import EARLIEST_INSTANT, END_OF_INSTANTS, RANGE_TEXT, echo, parse_iso_datetime


def parse_as_of(text: str, option: str = "--as-of") -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (or any ISO 8601 form, read strictly), as UTC unless it names an offset."""
    try:
        value = parse_iso_datetime(text.strip().removesuffix(" UTC"))
    except ValueError:
        raise CommandError(f"{option} {echo(text)!r} is not a time like '2023-01-25 18:00:00'") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not EARLIEST_INSTANT <= value < END_OF_INSTANTS:
        raise CommandError(f"{option} {echo(text)!r} is out of range: it must be {RANGE_TEXT}")
    return value


def parse_sla(text: str) -> Decimal:
    """``--sla 99.5``: a percentage 0-100 with at most 3 decimals, as the report stores it."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CommandError(f"--sla {echo(text)!r} is not a number like 99.5") from None
    if not value.is_finite() or not 0 <= value <= 100 or value != round(value, 3):
        raise CommandError(f"--sla {echo(text)!r} must be a percentage from 0 to 100 with at most 3 decimals")
    return value


def period_of(options: dict[str, Any]) -> Period | None:
    """The period of ``--start``/``--end``/``--sla``, checked; ``None`` for the fixed report."""
    if options["start"] is None and options["end"] is None:
        if options["sla"] is not None:
            raise CommandError("--sla is for a period report: give --start and --end")
        return None
    if options["start"] is None or options["end"] is None:
        raise CommandError("give both --start and --end")
    if options["as_of"]:
        raise CommandError("--as-of is for the fixed report; a period report is given by --start and --end")
    start, end = parse_as_of(options["start"], "--start"), parse_as_of(options["end"], "--end")
    sla = parse_sla(options["sla"]) if options["sla"] is not None else None
    try:
        return period_resolve(now=end, start=start, end=end, sla_target=sla)
    except BadPeriod as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = "Compute the uptime report now and write its CSV (the same code the workers run)."
    # Django's system checks (URL conf, templates, admin, models) validate the
    # project, not a report: ~0.5-0.9 s of every run, the workers never run them
    # per report, and `manage.py check` (CI) still does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="the report's `now` in UTC; default: the latest poll")
        parser.add_argument("--output", "-o", type=Path, help="CSV file to write; default: standard output")
        parser.add_argument("--chunk-size", type=int, help="stores per database chunk")
        parser.add_argument("--start", help="a period report's start (UTC unless an offset is given), with --end")
        parser.add_argument("--end", help="a period report's end, excluded; at most 93 days after --start")
        parser.add_argument("--sla", help="a period report's SLA target in percent, e.g. 99.5")

    def handle(self, *args: Any, **options: Any) -> None:
        period = period_of(options)
        as_of = parse_as_of(options["as_of"]) if options["as_of"] else None
        try:
            now = report_now(as_of) if period is None else period.end
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
                if period is None:
                    summary = report_write_csv(now=now, out=out, chunk_size=options["chunk_size"], on_progress=progress)
                else:
                    summary = report_write_period_csv(
                        period=period, out=out, chunk_size=options["chunk_size"], on_progress=progress
                    )
            finally:
                if output:
                    out.close()
        measured = f"now={summary.now.isoformat()}" if period is None else f"period=[{period.start}, {period.end})"
        self.stderr.write(
            f"report: {summary.rows} rows, {measured}, "
            f"{summary.seconds:.2f} s wall" + (f" -> {output}" if output else "")
        )
