"""A delivered report as an email: a plain-text and an HTML summary, the CSV attached or linked, one-click unsubscribe.

One message per recipient, so that each has an unsubscribe link of its own
and a line of its own in the delivery log.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from subscriptions.content import Content
from subscriptions.unsubscribe import unsubscribe_url


def report_email(content: Content, address: str) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(content.run.subscription_id, address)
    context = {
        "content": content,
        "summary": content.summary,
        "unsubscribe_url": unsubscribe,
        "link_days": settings.SIGNED_DOWNLOAD_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=render_to_string("subscriptions/report_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("subscriptions/report_email.html", context), "text/html")
    if content.csv_bytes is not None:
        message.attach(content.csv_name, content.csv_bytes, "text/csv")
    return message


def email_send(content: Content, address: str) -> str:
    """Send to ``address``; the server's reply (or what the backend did). Raises what the backend raises."""
    message = report_email(content, address)
    with get_connection(timeout=settings.EMAIL_TIMEOUT) as connection:
        connection.send_messages([message])
    return getattr(message, "smtp_reply", f"handed to {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]} backend")
