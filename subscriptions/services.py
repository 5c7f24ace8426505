"""Writes to subscriptions: create, change, rotate the webhook secret, unsubscribe an address, delete.

Who may do which is the caller's check (owners and staff manage, viewers
read: :func:`organizations.scoping.may_trigger`); these only do it, after
the model's own rules (:meth:`subscriptions.models.Subscription.clean`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from organizations.models import Organization
from subscriptions.cadence import Cadence, next_send_after
from subscriptions.models import Subscription
from subscriptions.signing import new_webhook_secret

#: The fields whose change moves ``next_run_at``.
SCHEDULE_FIELDS = frozenset({"cadence", "send_hour", "timezone"})
#: The fields a client may set.
EDITABLE_FIELDS = ("cadence", "send_hour", "timezone", "sla_target", "email_to", "webhook_url")


def next_run_of(subscription: Subscription, after: datetime) -> datetime:
    return next_send_after(
        Cadence(subscription.cadence), subscription.send_hour, ZoneInfo(subscription.timezone), after
    )


@dataclass(frozen=True, slots=True)
class Created:
    subscription: Subscription
    webhook_secret: str
    """Shown to the client once, here."""


def subscription_create(
    *,
    organization: Organization,
    cadence: str,
    send_hour: int,
    timezone_name: str | None = None,
    sla_target: Decimal | None = None,
    email_to: list[str] | None = None,
    webhook_url: str = "",
    created_by: User | None = None,
) -> Created:
    """A new subscription; its timezone and SLA target default to the organization's at this moment.

    A secret is made whether or not a webhook is given, so a webhook added later is signed from the start.
    """
    subscription = Subscription(
        organization=organization,
        cadence=cadence,
        send_hour=send_hour,
        timezone=timezone_name or organization.timezone,
        sla_target=organization.sla_target_percent if sla_target is None else sla_target,
        email_to=email_to or [],
        webhook_url=webhook_url or "",
        webhook_secret=new_webhook_secret(),
        created_by=created_by,
    )
    subscription.full_clean(exclude=["next_run_at"])
    subscription.next_run_at = next_run_of(subscription, timezone.now())
    subscription.save()
    return Created(subscription, subscription.webhook_secret)


def subscription_update(subscription: Subscription, changes: dict[str, Any]) -> Subscription:
    """Apply ``changes`` (of :data:`EDITABLE_FIELDS`); a changed schedule is counted again from now."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if name == "webhook_url" and value is None:
            value = ""
        setattr(subscription, name, value)
    subscription.full_clean()
    if SCHEDULE_FIELDS & set(changes):
        subscription.next_run_at = next_run_of(subscription, timezone.now())
    subscription.save()
    return subscription


@dataclass(frozen=True, slots=True)
class Rotated:
    webhook_secret: str
    previous_secret_expires_at: datetime


def subscription_rotate_secret(subscription: Subscription) -> Rotated:
    """A new secret; the one it replaces keeps signing for ``WEBHOOK_PREVIOUS_SECRET_HOURS``."""
    expires = timezone.now() + timedelta(hours=settings.WEBHOOK_PREVIOUS_SECRET_HOURS)
    subscription.previous_webhook_secret = subscription.webhook_secret
    subscription.previous_secret_expires_at = expires
    subscription.webhook_secret = new_webhook_secret()
    subscription.save(update_fields=["webhook_secret", "previous_webhook_secret", "previous_secret_expires_at"])
    return Rotated(subscription.webhook_secret, expires)


def signing_secrets(subscription: Subscription, at: datetime) -> list[str]:
    """The secrets that sign a webhook sent at ``at``: the current one, and the previous one until it expires."""
    current = [subscription.webhook_secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_webhook_secret and expires is not None and at < expires:
        return [*current, subscription.previous_webhook_secret]
    return current


def subscription_unsubscribe(subscription_id: str, address: str) -> bool:
    """Take ``address`` off the subscription's recipients; ``False`` when it was not on them (already off).

    A subscription left with no channel at all is deleted: nothing would be sent.
    """
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(id=subscription_id).first()
        if subscription is None:
            return False
        kept = [recipient for recipient in subscription.email_to if recipient.lower() != address.lower()]
        if len(kept) == len(subscription.email_to):
            return False
        if not kept and not subscription.webhook_url:
            subscription.delete()
        else:
            subscription.email_to = kept
            subscription.save(update_fields=["email_to", "updated_at"])
    return True
