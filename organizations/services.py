"""Writes to organizations and their members: what ``add_member`` (and the demo) do."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from organizations.models import SLUG_PATTERN, SLUG_RULE, Membership, Organization


class BadSlug(ValueError):
    """Not an organization slug."""


@dataclass(frozen=True, slots=True)
class MemberAdded:
    """What :func:`membership_add` did, for the command to say."""

    membership: Membership
    organization_created: bool
    user_created: bool
    membership_created: bool
    previous_role: str | None
    """The role the user had before, when it changed; ``None`` otherwise."""

    @property
    def user(self) -> AbstractBaseUser:
        return self.membership.user


def membership_add(*, organization: str, username: str, role: str = Membership.Role.VIEWER) -> MemberAdded:
    """Make ``username`` a member of ``organization`` with ``role``, creating either when missing.

    A new user gets an unusable password: they sign in once a password is
    set (``changepassword``) or use an API token (``drf_create_token``).
    Adding an existing member again sets their role.
    """
    if not re.fullmatch(SLUG_PATTERN, organization):
        raise BadSlug(f"{organization!r} is not an organization slug: {SLUG_RULE}")
    with transaction.atomic():
        found, organization_created = Organization.objects.get_or_create(
            slug=organization, defaults={"name": organization}
        )
        user_model = get_user_model()
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
        user_created = user is None
        if user is None:
            user = user_model.objects.create_user(**{user_model.USERNAME_FIELD: username})
            user.set_unusable_password()
            user.save(update_fields=["password"])
        membership, membership_created = Membership.objects.get_or_create(
            user=user, organization=found, defaults={"role": role}
        )
        previous_role = None
        if not membership_created and membership.role != role:
            previous_role, membership.role = membership.role, role
            membership.save(update_fields=["role"])
    return MemberAdded(membership, organization_created, user_created, membership_created, previous_role)
