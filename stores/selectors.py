"""Reads of stores that depend on who asks."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.scoping import AnyUser, visible_to
from stores.models import Store


def stores_visible_to(user: AnyUser) -> QuerySet[Store]:
    """The stores ``user`` may see (:func:`organizations.scoping.visible_to`): an unassigned store is staff's only."""
    return visible_to(user, Store.objects.all())
