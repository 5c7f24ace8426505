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


class NoSuchOrganization(Exception):
    """The slug names no organization the user may see: unknown and foreign slugs are the same answer."""


class OrganizationRequired(Exception):
    """The user belongs to several organizations and named none; ``choices`` are their slugs."""

    def __init__(self, choices: list[str]) -> None:
        super().__init__(choices)
        self.choices = choices


class MayNotTrigger(Exception):
    """The user sees the organization (or none) but may not run its report: a viewer, or no membership at all."""


def acting_organization(user: AnyUser, slug: str | None, *, action: str, fleet: bool) -> Organization | None:
    """The organization ``user`` acts on when they name ``slug`` (``None``: not given), as an owner.

    A member of one organization gets that one; a member of several must
    name one. Staff act on any; without a slug, on the fleet (``None``)
    where there is one (``fleet``), else they must name one. A slug is looked
    up among the organizations the user sees, so a foreign one raises
    :class:`NoSuchOrganization` exactly as an unknown one does. ``action``
    says what only an owner may do, for :class:`MayNotTrigger`'s message.
    """
    visible = organizations_visible_to(user)
    if slug is not None:
        organization = visible.filter(slug=slug).first()
        if organization is None:
            raise NoSuchOrganization(slug)
    elif is_staff(user) and fleet:
        organization = None
    else:
        choices = list(visible.values_list("slug", flat=True)[:2])
        if not choices:
            raise MayNotTrigger("you are a member of no organization")
        if len(choices) > 1:
            raise OrganizationRequired(list(visible.values_list("slug", flat=True)[:50]))
        organization = visible.get(slug=choices[0])
    if not may_trigger(user, organization):
        raise MayNotTrigger(f"only an owner of {organization} may {action}")
    return organization


def trigger_organization(user: AnyUser, slug: str | None) -> Organization | None:
    """Whose report ``user`` runs when they ask for ``slug``; ``None`` is the fleet report (staff only)."""
    return acting_organization(user, slug, action="run its report", fleet=True)


def managing_organization(user: AnyUser, slug: str | None) -> Organization:
    """Whose subscriptions ``user`` creates when they name ``slug``: always an organization, as its owner or staff."""
    organization = acting_organization(user, slug, action="manage its subscriptions", fleet=False)
    assert organization is not None
    return organization
