"""``manage.py demo_user``: a ready user and API token for trying the service locally."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from devtools.demo import hint_lines


class Command(BaseCommand):
    help = "Create (or reuse) the demo superuser and its API token, and print ready-to-paste curl lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        # A superuser with a known password and a printed token: never on a server that is not a local one.
        if not settings.DEBUG:
            raise CommandError("demo_user runs only with DEBUG=1: it makes a superuser with a known password")
        username, base = options["username"], options["base_url"].rstrip("/")
        password = os.environ.get("DEMO_PASSWORD", "demo-password")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
        token, _ = Token.objects.get_or_create(user=user)
        auth = f'-H "Authorization: Token {token.key}"'
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  API token   {token.key}",
                    f"  Admin       {base}/admin/  (user {username!r}, password {password!r} unless already set)",
                    f"  API docs    {base}/api/docs/  (log in at {base}/api-auth/login/)",
                    "",
                    "  Try it:",
                    f"    curl -s -X POST {auth} {base}/trigger_report",
                    f'    curl -s {auth} "{base}/get_report?report_id=REPORT_ID&format=json"',
                    f'    curl -s {auth} -o report.csv "{base}/get_report?report_id=REPORT_ID"',
                    "",
                    *hint_lines(base, auth),
                ]
            )
        )
