"""Two organizations over ``week_of_polls``, their members, and a complete report of each, run by django-q2.

``alpha`` owns three stores (``always-up``, ``always-down``, ``recovered``),
``beta`` the other two (``newcomer``, ``office-hours``). Reports are triggered
through :func:`reports.fanout.queue.report_trigger` and computed by
django-q2's own task code (``q_sync``), so each is exactly what an owner gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from organizations.models import Membership, Organization
from reports.fanout.queue import report_trigger
from reports.models import Report
from stores.models import Store

# Shared report fixtures: the small hand-checked week, django-q2 run in-process.
from tests.reports.conftest import q_sync, run_queued_tasks, week_of_polls  # noqa: F401

PASSWORD = "a-long-enough-password"
ALPHA_STORES = ("always-down", "always-up", "recovered")
BETA_STORES = ("newcomer", "office-hours")


@dataclass(frozen=True)
class Tenants:
    alpha: Organization
    beta: Organization
    alice: User  # owner of alpha
    victor: User  # viewer of alpha
    bob: User  # owner of beta
    staff: User
    outsider: User  # logged in, member of nothing


def member(username: str, organization: Organization | None, role: str = Membership.Role.OWNER) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    if organization is not None:
        Membership.objects.create(user=user, organization=organization, role=role)
    return user


@pytest.fixture
def tenants(week_of_polls: datetime) -> Tenants:  # noqa: F811
    alpha = Organization.objects.create(slug="alpha", name="Alpha Pizza")
    beta = Organization.objects.create(slug="beta", name="Beta Burgers")
    Store.objects.filter(id__in=ALPHA_STORES).update(organization=alpha)
    Store.objects.filter(id__in=BETA_STORES).update(organization=beta)
    return Tenants(
        alpha=alpha,
        beta=beta,
        alice=member("alice", alpha),
        victor=member("victor", alpha, Membership.Role.VIEWER),
        bob=member("bob", beta),
        staff=User.objects.create_user(username="demo", password=PASSWORD, is_staff=True),
        outsider=member("olga", None),
    )


def complete_report(organization: Organization | None) -> Report:
    report = Report.objects.get(id=report_trigger(as_of=None, organization=organization).report.id)
    assert report.status == Report.Status.COMPLETE, report.error
    return report


@pytest.fixture
def alpha_report(tenants: Tenants, q_sync: None) -> Report:  # noqa: F811
    return complete_report(tenants.alpha)


@pytest.fixture
def beta_report(tenants: Tenants, q_sync: None) -> Report:  # noqa: F811
    return complete_report(tenants.beta)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
