"""Uploads stop being read at the size limit, over a real HTTP connection.

The client declares a body far over the limit, sends a few times the limit
and then nothing more. A server that spools the whole body first never
answers (the test times out waiting); one that stops at the limit answers
while the client is still "sending".
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from reports.models import Report
from stores.models import BusinessHours, Poll, Store

MOMENT = datetime(2023, 1, 22, 12, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 64 * 1024
DECLARED = 1024 * 1024 * 1024  # what the client claims it will send
SENT = 4 * LIMIT  # what it sends before waiting for an answer
BOUNDARY = "loopmonitorboundary"


def session_cookies(user: User) -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}", csrf


def post_partially(live_server: LiveServer, path: str, user: User) -> tuple[int, bytes]:
    """POST a multipart body declared as DECLARED bytes, send SENT of them, and read the answer."""
    cookies, csrf = session_cookies(user)
    address = urlsplit(live_server.url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {DECLARED}\r\n"
        f"Cookie: {cookies}\r\nX-CSRFToken: {csrf}\r\nAccept: application/json\r\n\r\n"
    )
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="import_file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nstore_id,timezone_str\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=15) as connection:
        connection.sendall(head.encode() + part.encode() + b"1,UTC\r\n" * (SENT // 7))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        headers, _, body = answer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in headers.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            chunk = connection.recv(65536)
            assert chunk, "the server closed the connection mid-answer"
            body += chunk
    return int(headers.split(b" ", 2)[1]), body


def test_an_admin_import_upload_is_refused_at_the_limit_without_reading_the_rest(
    live_server: LiveServer, settings: Settings, admin_user: User
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = LIMIT

    status, body = post_partially(live_server, reverse("admin:stores_store_import"), admin_user)

    assert status == 200
    assert "big.csv is larger than 64.0\xa0KB; this screen takes files up to 64.0\xa0KB" in body.decode()
    assert "Nothing was stored" in body.decode()
    assert not Store.objects.exists() and not BusinessHours.objects.exists()


def test_an_api_upload_from_a_session_user_is_refused_before_the_body_is_read(
    live_server: LiveServer, settings: Settings, admin_user: User
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    Poll.objects.create(store=Store.objects.create(id="1"), timestamp_utc=MOMENT, status="active")

    status, body = post_partially(live_server, "/trigger_report", admin_user)

    assert status == 413
    assert body == b'{"detail":"the request body is larger than 64.0 KB, the most this API accepts"}'
    assert not Report.objects.exists()
