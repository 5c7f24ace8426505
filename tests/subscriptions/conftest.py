"""Real receivers for delivered reports, and two organizations whose stores have polls yesterday.

* :class:`SmtpServer`: aiosmtpd on a free loopback port; Django's SMTP backend
  sends to it, and the test reads the messages it received, as bytes parsed
  by the standard library.
* :class:`WebhookReceiver`: a standard-library HTTP server on a free loopback
  port that answers each POST as told (a status, or a delay first) and
  verifies every signature with its own HMAC code (:func:`signature_valid`),
  not the ``standardwebhooks`` package the service signs with.

The stores' polls are placed relative to the real clock, since a
subscription reports on the last complete local day, week or month before it sends.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from organizations.models import Membership, Organization
from tests.factories import PollFactory, StoreFactory
from tests.reports.conftest import q_sync, run_queued_tasks  # noqa: F401  (fixtures)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 2.0.0 Ok: queued as TEST42"


@dataclass
class SmtpServer:
    port: int
    inbox: _Inbox

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, _, message in self.inbox.messages]

    def recipients(self) -> list[str]:
        return [rcpt for _, rcpts, _ in self.inbox.messages for rcpt in rcpts]


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SmtpServer]:
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd connects to its port to check it started: it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "subscriptions.mail_backend.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> list[bool]:
    """For each ``v1,`` signature of the header: does it match ``secret``? The spec, in a few lines of hmac."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return [
        hmac.compare_digest(value, expected)
        for version, _, value in (part.partition(",") for part in headers["webhook-signature"].split(" "))
        if version == "v1"
    ]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    url: str
    answers: list[int | float] = field(default_factory=list)
    """What to do with each POST, in turn: an int is the status to answer, a float the seconds to stall first
    (then 200). Once they run out, 200."""
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def webhook_receiver(settings: Settings) -> Iterator[WebhookReceiver]:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    state = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (the standard library's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = state.answers.pop(0) if state.answers else 200
            if isinstance(answer, float):
                time.sleep(answer)
                answer = 200
            self.send_response(answer)
            if answer in (301, 302, 307):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/loop"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Owners:
    alpha: Organization
    beta: Organization
    alice: User
    """alpha's owner"""
    vic: User
    """alpha's viewer"""
    bob: User
    """beta's owner"""
    yesterday: tuple[datetime, datetime]

    def client(self, user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client


@pytest.fixture
def owners(settings: Settings, isolated_reports: Any) -> Owners:
    """alpha (UTC, SLA 99.5) owns ``a-up`` (up all of yesterday) and ``a-flaky`` (down for yesterday's second
    half); beta owns ``b-store``. Stores have no business hours, so they are open all day (SEMANTICS)."""
    settings.SITE_URL = "http://testserver"
    alpha = Organization.objects.create(slug="alpha", name="Alpha Pizza", timezone="UTC")
    beta = Organization.objects.create(slug="beta", name="Beta Burgers", timezone="Asia/Tokyo")
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=1)
    up = StoreFactory(id="a-up", timezone="UTC", organization=alpha)
    flaky = StoreFactory(id="a-flaky", timezone="UTC", organization=alpha)
    other = StoreFactory(id="b-store", timezone="UTC", organization=beta)
    for hour in range(25):
        at = start + timedelta(hours=hour, minutes=30) if hour < 24 else today + timedelta(minutes=5)
        PollFactory(store=up, timestamp_utc=at, status="active")
        PollFactory(store=flaky, timestamp_utc=at, status="active" if hour < 12 else "inactive")
        PollFactory(store=other, timestamp_utc=at, status="active")
    users = {name: User.objects.create_user(username=name) for name in ("alice", "vic", "bob")}
    Membership.objects.create(user=users["alice"], organization=alpha, role=Membership.Role.OWNER)
    Membership.objects.create(user=users["vic"], organization=alpha, role=Membership.Role.VIEWER)
    Membership.objects.create(user=users["bob"], organization=beta, role=Membership.Role.OWNER)
    return Owners(alpha, beta, users["alice"], users["vic"], users["bob"], (start, today))
