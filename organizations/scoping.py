"""The one scoping rule: which rows a user may see, and what a user may do in an organization.

Every read of stores, reports, outages, subscriptions or runs goes through
:func:`visible_to` (or a wrapper of it next to its model's selectors), so an
object of another tenant is filtered out exactly like one that does not
exist: views answer 404 for both and ids do not leak.

* Staff (``is_staff``) see everything, fleet rows (no organization) included.
* A member sees the rows of the organizations they belong to; never a row
  without an organization (an unassigned store, a fleet report).
* Anyone else sees nothing.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, QuerySet

from organizations.models import Membership, Organization

Row = TypeVar("Row", bound=Model)
AnyUser = AbstractBaseUser | AnonymousUser


def is_staff(user: AnyUser) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_staff", False))


def visible_to(user: AnyUser, rows: QuerySet[Row], *, via: str = "organization") -> QuerySet[Row]:
    """``rows`` restricted to what ``user`` may see.

    ``via`` is the lookup path from a row to its organization (``""`` when
    the rows are organizations). A member's rows are those whose
    organization has a membership of theirs, so a row with no organization
    is never among them.
    """
    if is_staff(user):
        return rows
    if not user.is_authenticated:
        return rows.none()
    prefix = f"{via}__" if via else ""
    return rows.filter(**{f"{prefix}memberships__user": user.pk})


def organizations_visible_to(user: AnyUser) -> QuerySet[Organization]:
    return visible_to(user, Organization.objects.all(), via="")


def role_in(user: AnyUser, organization: Organization) -> str | None:
    """``owner`` or ``viewer`` for a member, ``owner`` for staff (they may act on any organization), else ``None``."""
    if is_staff(user):
        return Membership.Role.OWNER
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(user_id=user.pk, organization=organization).first()
    return None if membership is None else membership.role


def may_trigger(user: AnyUser, organization: Organization | None) -> bool:
    """Owners run their organization's reports; staff run any, and the fleet report (``organization`` is ``None``)."""
    if organization is None:
        return is_staff(user)
    return role_in(user, organization) == Membership.Role.OWNER
