"""Feed accounts: users of the ``feed`` group, made by a migration with the ingestion permission."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from ingestion.models import INGEST_PERMISSION

FEED_GROUP = "feed"


def feed_group() -> Group:
    """The ``feed`` group with the ingestion permission: made by a migration, made again here if it was deleted."""
    group, _ = Group.objects.get_or_create(name=FEED_GROUP)
    app_label, codename = INGEST_PERMISSION.split(".")
    group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


@transaction.atomic
def feed_account_ensure(*, username: str, rotate: bool = False) -> str:
    """Make ``username`` a feed account (created without a password: it signs in by token only); its token."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(feed_group())
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    key: str = token.key
    return key
