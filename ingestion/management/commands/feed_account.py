"""``manage.py feed_account NAME``: an account that may load data over the API, and its token."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ingestion.accounts import feed_account_ensure


class Command(BaseCommand):
    help = (
        "Create (or update) user NAME as a member of the feed group, which may call the /ingest/ endpoints, "
        "and print its API token. --rotate replaces an existing token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--rotate", action="store_true", help="issue a new token; the old one stops working")

    def handle(self, *args: Any, **options: Any) -> None:
        token = feed_account_ensure(username=options["name"], rotate=options["rotate"])
        self.stdout.write(token)
