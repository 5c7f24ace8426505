"""What a subscription must be, in one place: the API's serializer and the portal's form both check through it.

Each function raises Django's ``ValidationError`` with a message for the
field it checks; :meth:`subscriptions.models.Subscription.clean` calls them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from stores.rules import known_timezones
from subscriptions.webhook_http import WebhookUrlRefused, webhook_target

MAX_RECIPIENTS = 20


def check_email_to(addresses: object) -> list[str]:
    """A list of valid addresses, at most :data:`MAX_RECIPIENTS`, each once (case-insensitively), order kept."""
    if not isinstance(addresses, list) or not all(isinstance(address, str) for address in addresses):
        raise ValidationError("give a list of email addresses")
    seen: dict[str, str] = {}
    for address in (address.strip() for address in addresses):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address[:100]!r} is not an email address") from None
        seen.setdefault(address.lower(), address)
    if len(seen) > MAX_RECIPIENTS:
        raise ValidationError(f"at most {MAX_RECIPIENTS} recipients")
    return list(seen.values())


def check_webhook_url(url: str) -> None:
    """An https URL whose host resolves to public addresses (any http(s) URL with ``WEBHOOK_ALLOW_PRIVATE``).

    Checked again at every send: what a name resolves to may change.
    """
    try:
        webhook_target(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except WebhookUrlRefused as refused:
        raise ValidationError(str(refused)) from None


def check_timezone(name: str) -> None:
    if name not in known_timezones():
        raise ValidationError(f"unknown timezone {name[:64]!r}; use an IANA name such as Europe/Berlin")


def check_channels(email_to: Sequence[str], webhook_url: str) -> None:
    if not email_to and not webhook_url:
        raise ValidationError("give email recipients (email_to), a webhook_url, or both")
