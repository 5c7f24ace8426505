"""Feed accounts: users of the ``feed`` group, made by a migration with the ingestion permission."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

FEED_GROUP = "feed"


@transaction.atomic
def feed_account_ensure(*, username: str, rotate: bool = False) -> str:
    """Make ``username`` a feed account (created without a password: it signs in by token only); its token."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=FEED_GROUP))
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
