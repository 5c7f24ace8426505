"""Two tenants over the report tests' small database, and clients for each kind of user.

``alpha`` owns ``always-up``, ``recovered`` and ``office-hours``; ``beta``
owns ``always-down`` and ``newcomer``. Users: ``alice`` (alpha's owner),
``vic`` (alpha's viewer), ``bob`` (beta's owner), ``carol`` (owner in both),
``nobody`` (no membership) and ``demo`` (staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organizations.models import Membership, Organization
from stores.models import Store
from tests.reports.conftest import q_sync, run_queued_tasks, week_of_polls  # noqa: F401  (fixtures)

ALPHA_STORES = ["always-up", "office-hours", "recovered"]
BETA_STORES = ["always-down", "newcomer"]


@dataclass
class Tenants:
    now: datetime
    alpha: Organization
    beta: Organization
    users: dict[str, User]

    def client(self, name: str) -> APIClient:
        """An API client authenticated by ``name``'s token; ``anonymous`` has none."""
        client = APIClient()
        if name != "anonymous":
            token, _ = Token.objects.get_or_create(user=self.users[name])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client


@pytest.fixture
def tenants(week_of_polls: datetime) -> Tenants:  # noqa: F811
    alpha = Organization.objects.create(slug="alpha", name="Alpha")
    beta = Organization.objects.create(slug="beta", name="Beta")
    Store.objects.filter(id__in=ALPHA_STORES).update(organization=alpha)
    Store.objects.filter(id__in=BETA_STORES).update(organization=beta)
    users = {
        name: User.objects.create_user(username=name, is_staff=name == "demo")
        for name in ("alice", "vic", "bob", "carol", "nobody", "demo")
    }
    for name, organization, role in [
        ("alice", alpha, Membership.Role.OWNER),
        ("vic", alpha, Membership.Role.VIEWER),
        ("bob", beta, Membership.Role.OWNER),
        ("carol", alpha, Membership.Role.OWNER),
        ("carol", beta, Membership.Role.OWNER),
    ]:
        Membership.objects.create(user=users[name], organization=organization, role=role)
    return Tenants(week_of_polls, alpha, beta, users)
