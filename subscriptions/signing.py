"""Standard Webhooks signatures (https://www.standardwebhooks.com/), through the ``standardwebhooks`` package.

A secret is ``whsec_`` and the base64 of 32 random bytes (the spec asks for
24 to 64). After a rotation the previous secret keeps signing for
``WEBHOOK_PREVIOUS_SECRET_HOURS`` (24), so a receiver can switch at its own
pace: ``webhook-signature`` then holds both signatures, space-separated,
the new one first.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def webhook_headers(*, message_id: str, sent_at: datetime, body: str, signing_secrets: Sequence[str]) -> dict[str, str]:
    """The three headers of a delivery: ``webhook-id``, ``webhook-timestamp`` (Unix seconds), ``webhook-signature``."""
    signatures = [Webhook(secret).sign(message_id, sent_at, body) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
