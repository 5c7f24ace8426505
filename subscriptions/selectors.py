"""Every read of subscriptions, their runs and deliveries: through the scoping function, never by hand."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.scoping import AnyUser, visible_to
from subscriptions.models import Delivery, Subscription, SubscriptionRun


def subscriptions_visible_to(user: AnyUser) -> QuerySet[Subscription]:
    return visible_to(user, Subscription.objects.select_related("organization"))


def runs_visible_to(user: AnyUser) -> QuerySet[SubscriptionRun]:
    return visible_to(user, SubscriptionRun.objects.all(), via="subscription__organization")


def deliveries_visible_to(user: AnyUser) -> QuerySet[Delivery]:
    return visible_to(user, Delivery.objects.all(), via="subscription__organization")


def subscription_deliveries(user: AnyUser, subscription: Subscription) -> QuerySet[Delivery]:
    """A subscription's delivery attempts, newest first."""
    return deliveries_visible_to(user).filter(subscription=subscription).order_by("-started_at", "-id")
