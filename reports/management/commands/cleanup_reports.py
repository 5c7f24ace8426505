"""``manage.py cleanup_reports``: delete old reports and their CSV files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from reports.services import reports_delete_older_than


class Command(BaseCommand):
    help = "Delete finished reports (and their CSV files) older than --days (default REPORT_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.REPORT_RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = reports_delete_older_than(days=options["days"])
        self.stdout.write(f"deleted {deleted} report(s) older than {options['days']} day(s)")
