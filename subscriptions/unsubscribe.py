"""One-click unsubscribe links (RFC 8058): the subscription and the address, signed with the ``SECRET_KEY``.

They do not expire: an old email's link must still work. Following one
takes only that address off the subscription's recipients.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "subscriptions.unsubscribe"


def unsubscribe_url(subscription_id: str, address: str) -> str:
    token = signing.dumps([subscription_id, address], salt=SALT, compress=True)
    return settings.SITE_URL.rstrip("/") + reverse("unsubscribe", args=[token])


def unsubscribe_target(token: str) -> tuple[str, str] | None:
    """``(subscription_id, address)`` of a link, or ``None`` when it was altered."""
    try:
        subscription_id, address = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return str(subscription_id), str(address)
