"""Posting a webhook without letting a subscriber aim the service at its own network.

Only ``https`` URLs whose host resolves to public addresses only are
allowed; the connection goes to the address that was checked (not to a
second lookup, which a rebinding DNS server could answer differently), with
the URL's host name for TLS (SNI and certificate) and the ``Host`` header.
``WEBHOOK_ALLOW_PRIVATE=1`` (development and tests) also allows ``http`` and
private, loopback and link-local addresses. Redirects are not followed: a
``3xx`` is a failed delivery like any other non-``2xx``. The standard
library's ``http.client`` does all of this; no HTTP client package needed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

#: How much of a receiver's answer is kept in the delivery log.
REASON_LIMIT = 200


class WebhookUrlRefused(ValueError):
    """The URL is not one the service may post to; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _addresses(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:  # ValueError: a NUL in the name
        raise WebhookUrlRefused(f"the host {host[:100]!r} does not resolve ({error})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def webhook_target(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and resolve its host; :class:`WebhookUrlRefused` when it may not be posted to."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        raise WebhookUrlRefused("the webhook URL is not a URL") from None
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise WebhookUrlRefused(f"the webhook URL must start with {' or '.join(s + '://' for s in allowed_schemes)}")
    if not hostname:
        raise WebhookUrlRefused("the webhook URL has no host")
    if parts.username or parts.password:
        raise WebhookUrlRefused("the webhook URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("the webhook URL's port is not a number from 1 to 65535") from None
    addresses = _addresses(hostname, port)
    if not allow_private:
        private = [address for address in addresses if not ipaddress.ip_address(address.split("%")[0]).is_global]
        if private:
            raise WebhookUrlRefused(
                f"the host {hostname!r} resolves to a non-public address ({private[0]}); "
                "webhooks go to public addresses only"
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, hostname, port, path, addresses[0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address, verifying the certificate for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def webhook_post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> tuple[int, str]:
    """POST ``body`` to ``url``; the answer's status and reason. Raises ``OSError`` (timeouts included) and
    :class:`WebhookUrlRefused`."""
    target = webhook_target(url, allow_private=allow_private)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "loopmonitor-webhooks/1", **headers},
        )
        answer = connection.getresponse()
        answer.read(64 * 1024)
        return answer.status, answer.reason[:REASON_LIMIT]
    finally:
        connection.close()
