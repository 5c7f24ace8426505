"""The portal's reads, every one through the scoping function (:mod:`organizations.scoping`).

An organization, report or store the user may not see raises ``Http404``,
exactly as one that does not exist: the portal never tells them apart.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from organizations.models import Organization
from organizations.scoping import AnyUser, organizations_visible_to
from reports.models import Report
from reports.selectors import reports_visible_to
from stores.models import Store
from stores.selectors import stores_visible_to


def organization_for(user: AnyUser, slug: str) -> Organization:
    return get_object_or_404(organizations_visible_to(user), slug=slug)


def organization_reports(user: AnyUser, organization: Organization) -> QuerySet[Report]:
    """The organization's reports ``user`` may see, newest first (never a fleet report: it has no organization)."""
    return reports_visible_to(user).filter(organization=organization).order_by("-created_at", "-id")


def report_for(user: AnyUser, organization: Organization, report_id: str) -> Report:
    return get_object_or_404(organization_reports(user, organization), id=report_id)


def store_for(user: AnyUser, organization: Organization, store_id: str) -> Store:
    """A store of the organization; one that moved to another organization since is that one's, not this one's."""
    return get_object_or_404(stores_visible_to(user).filter(organization=organization), id=store_id)
