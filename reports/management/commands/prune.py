"""``manage.py prune``: enforce poll and report retention now (a daily schedule does it too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.retention import data_prune


class Command(BaseCommand):
    help = (
        "Delete polls older than --poll-days (default POLL_RETENTION_DAYS) before the newest poll, sparing what "
        "running reports read, and reports older than --report-days (default REPORT_RETENTION_DAYS) with their files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--poll-days", type=int, help="keep this many days of polls, counted from the newest")
        parser.add_argument("--report-days", type=int, help="keep reports created within this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("poll_days", "report_days"):
            if options[name] is not None and options[name] < 0:
                self.stderr.write(f"error: --{name.replace('_', '-')} must be 0 or more")
                raise SystemExit(2)
        result = data_prune(poll_days=options["poll_days"], report_days=options["report_days"])
        self.stdout.write(result.summary())
