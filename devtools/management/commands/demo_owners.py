"""``manage.py demo_owners``: organizations alpha and beta over the loaded stores, each with an owner."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse
from rest_framework.authtoken.models import Token

from devtools.demo import store_with_outages
from organizations.models import Membership, Organization
from organizations.services import membership_add
from stores.data_version import data_version_bump
from stores.models import Store

#: (organization, owner): the first gets the first half of the store ids in sorted order, the second the rest.
DEMO_OWNERS = (("alpha", "alice"), ("beta", "bob"))


class Command(BaseCommand):
    help = (
        "Split the stores between organizations alpha and beta (about half each), make alice alpha's owner and "
        "bob beta's, and print their passwords, tokens and curl lines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        # Users with known passwords: never on a server that is not a local one.
        if not settings.DEBUG:
            raise CommandError("demo_owners runs only with DEBUG=1: it makes users with known passwords")
        base = options["base_url"].rstrip("/")
        ids = list(Store.objects.order_by("id").values_list("id", flat=True))
        (first, _), (second, _) = DEMO_OWNERS
        split = ids[len(ids) // 2] if ids else None
        lines = ["", "  Owners (each sees only their organization's stores and reports):"]
        for slug, username in DEMO_OWNERS:
            added = membership_add(organization=slug, username=username, role=Membership.Role.OWNER)
            organization = added.membership.organization
            stores = Store.objects.all()
            if split is not None:
                stores = stores.filter(id__lt=split) if slug == first else stores.filter(id__gte=split)
            with transaction.atomic():
                if stores.update(organization=organization):
                    data_version_bump()  # an organization's store set is part of what its report reads
            user = added.membership.user
            password = os.environ.get(f"DEMO_{username.upper()}_PASSWORD", f"{username}-password")
            if not user.has_usable_password():
                user.set_password(password)
                user.save(update_fields=["password"])
            token, _ = Token.objects.get_or_create(user=user)
            count = Organization.objects.get(pk=organization.pk).stores.count()
            lines.append(
                f"    {slug:<6} {count:>6} stores  user {username!r}, password {password!r} unless already set,"
                f"  API token {token.key}"
            )
        alice = Token.objects.get(user__username=DEMO_OWNERS[0][1]).key
        lines += [
            f"  Owner portal {base}/login/  (log in as {DEMO_OWNERS[0][1]} or {DEMO_OWNERS[1][1]})",
            "",
            f"  As {DEMO_OWNERS[0][1]} ({first}; {second}'s reports and stores answer 404):",
            f'    curl -s -X POST -H "Authorization: Token {alice}" {base}/trigger_report',
            f'    curl -s -H "Authorization: Token {alice}" {base}/reports',
            "",
            *self._store_hint(base),
        ]
        self.stdout.write("\n".join(lines))

    def _store_hint(self, base: str) -> list[str]:
        """The store with outages (:func:`devtools.demo.store_with_outages`), as its owner sees it."""
        store = store_with_outages()
        if store is None or store.organization is None:
            return []
        username = dict(DEMO_OWNERS)[store.organization]
        token = Token.objects.get(user__username=username).key
        page = base + reverse("portal:store", args=[store.organization, "REPORT_ID", store.store_id])
        return [
            f"  Store {store.store_id} ({store.outages} outages) is {store.organization}'s; as {username}, after "
            "Run a report:",
            f"    {page}",
            f'    curl -s -H "Authorization: Token {token}" {base}/stores/{store.store_id}/outages',
            "",
        ]
