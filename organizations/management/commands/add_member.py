"""``manage.py add_member ORGANIZATION USERNAME [--role owner|viewer]``: a thin shell around ``membership_add``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations.models import Membership
from organizations.services import BadSlug, membership_add


class Command(BaseCommand):
    help = (
        "Make USERNAME a member of ORGANIZATION (a slug) with a role, creating the organization and the user "
        "(with an unusable password) when missing, and say what was done."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="the organization's slug")
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            choices=Membership.Role.values,
            default=Membership.Role.VIEWER,
            help="owner: reads and runs reports; viewer (default): reads",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            added = membership_add(
                organization=options["organization"], username=options["username"], role=options["role"]
            )
        except BadSlug as error:
            raise CommandError(str(error)) from None
        organization, username, role = options["organization"], options["username"], options["role"]
        if added.organization_created:
            self.stdout.write(f"created organization {organization}")
        if added.user_created:
            self.stdout.write(
                f"created user {username} (no usable password: set one with `manage.py changepassword {username}`, "
                f"or make an API token with `manage.py drf_create_token {username}`)"
            )
        if added.membership_created:
            self.stdout.write(f"added {username} to {organization} as {role}")
        elif added.previous_role is not None:
            self.stdout.write(f"{username} in {organization}: role {added.previous_role} -> {role}")
        else:
            self.stdout.write(f"{username} was already {role} in {organization}; nothing changed")
