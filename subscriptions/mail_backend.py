"""Django's SMTP backend, keeping the server's reply to each message for the delivery log.

``smtplib`` reads the reply to ``DATA`` ("250 2.0.0 Ok: queued as …") and
drops it; the log should show what the server said, so the connection
class keeps it and the backend puts it on the message.
"""

from __future__ import annotations

import smtplib
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend


class _ReplyKeeping:
    last_reply: tuple[int, bytes] | None = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        reply: tuple[int, bytes] = super().data(msg)  # type: ignore[misc]
        self.last_reply = reply
        return reply


class _SMTP(_ReplyKeeping, smtplib.SMTP):
    pass


class _SMTPSSL(_ReplyKeeping, smtplib.SMTP_SSL):
    pass


class EmailBackend(DjangoSMTPBackend):
    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTPSSL if self.use_ssl else _SMTP

    def _send(self, email_message: EmailMessage) -> bool:
        sent: bool = super()._send(email_message)  # type: ignore[misc]
        reply = getattr(self.connection, "last_reply", None)
        if sent and reply is not None:
            code, text = reply
            email_message.smtp_reply = f"{code} {text.decode('utf-8', 'replace')}"  # type: ignore[attr-defined]
        return sent
