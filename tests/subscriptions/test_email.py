"""A delivered report by email, received by a real SMTP server: summary, attachment, headers, one-click unsubscribe.

``send_now`` goes through the API; the report is computed by django-q2's own
task code (``q_sync``) and its completion delivers the run, as in production.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from reports.models import Report
from stores.models import Poll, Store
from subscriptions.models import Delivery, Subscription, SubscriptionRun
from tests.factories import PollFactory
from tests.subscriptions.conftest import Owners, SmtpServer

pytestmark = [pytest.mark.django_db(databases=["default", "reader"]), pytest.mark.usefixtures("q_sync")]


def subscribe(owners: Owners, **body: object) -> str:
    response = owners.client(owners.alice).post(
        "/subscriptions", {"cadence": "daily", "send_hour": 7, **body}, format="json"
    )
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def send_now(owners: Owners, subscription_id: str) -> dict[str, object]:
    response = owners.client(owners.alice).post(f"/subscriptions/{subscription_id}/send_now")
    assert response.status_code == 202, response.content
    return response.json()  # type: ignore[no-any-return]


def test_send_now_emails_each_recipient_the_summary_and_the_csv(owners: Owners, smtp_server: SmtpServer) -> None:
    subscription_id = subscribe(owners, email_to=["ops@alpha.example", "boss@alpha.example"])

    run = send_now(owners, subscription_id)

    start, end = owners.yesterday
    assert run["start"] == start.isoformat().replace("+00:00", "Z") and run["status"] == "done"
    report = Report.objects.get(id=run["report_id"])
    assert (report.kind, report.start, report.end, report.organization) == ("period", start, end, owners.alpha)
    assert sorted(smtp_server.recipients()) == ["boss@alpha.example", "ops@alpha.example"]
    message = smtp_server.messages[0]
    assert message["Subject"].startswith("Alpha Pizza: ") and "% uptime" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    # a-up was up all day, a-flaky for its first 12 hours: 36 of 48 hours, 75 %; one of two stores met 99.5 %.
    assert "Overall uptime: 75.00 %" in text and "75.00 %" in html
    assert "Stores that met the SLA (99.500 %): 1 of 2" in text
    assert re.search(r"a-flaky: 50\.00 % uptime, longest outage \d+\.\d\d min", text)
    assert text.index("a-flaky") < text.index("a-up")  # the worst first
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    with report.csv_file.open("rb") as stored:
        # Text travels by SMTP with CRLF line ends (RFC 5322); the cells are the stored CSV's, byte for byte.
        assert attachment.get_content().replace("\r\n", "\n").encode() == stored.read()
    assert f"/o/alpha/reports/{report.id}/" in text
    deliveries = Delivery.objects.order_by("target")
    assert [(d.channel, d.status, d.attempt) for d in deliveries] == [("email", "delivered", 1)] * 2
    assert deliveries[0].response == "250 2.0.0 Ok: queued as TEST42"


def test_the_one_click_unsubscribe_headers_and_link_take_off_only_that_address(
    owners: Owners, smtp_server: SmtpServer
) -> None:
    subscription_id = subscribe(owners, email_to=["ops@alpha.example", "boss@alpha.example"])
    send_now(owners, subscription_id)
    message = next(m for m in smtp_server.messages if m["To"] == "ops@alpha.example")

    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<http://testserver(/unsubscribe/[^>]+/)>", str(message["List-Unsubscribe"]).strip())
    assert link is not None
    browser = Client()
    asked = browser.get(link.group(1))
    assert asked.status_code == 200 and b"unsubscribe-button" in asked.content
    assert Subscription.objects.get().email_to == ["ops@alpha.example", "boss@alpha.example"]  # a GET changes nothing

    # What a mail client's one-click does (RFC 8058): a POST with this body, no cookie, no CSRF token.
    done = Client(enforce_csrf_checks=True).post(link.group(1), {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200 and b"unsubscribe-done" in done.content
    assert Subscription.objects.get().email_to == ["boss@alpha.example"]
    assert b"unsubscribe-already" in browser.get(link.group(1)).content


def test_an_altered_unsubscribe_link_is_refused(owners: Owners, smtp_server: SmtpServer) -> None:
    subscription_id = subscribe(owners, email_to=["ops@alpha.example"])
    send_now(owners, subscription_id)
    token = re.search(r"/unsubscribe/([^/>]+)/", smtp_server.messages[0]["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]

    response = Client().post(f"/unsubscribe/{token[:-2]}xx/")

    assert response.status_code == 404 and b"unsubscribe-invalid" in response.content
    assert Subscription.objects.get().email_to == ["ops@alpha.example"]


def test_a_csv_over_the_attachment_limit_is_linked_not_attached(
    owners: Owners, smtp_server: SmtpServer, settings: Settings
) -> None:
    settings.DELIVERY_ATTACH_MAX_BYTES = 10
    subscription_id = subscribe(owners, email_to=["ops@alpha.example"])
    send_now(owners, subscription_id)
    message = smtp_server.messages[0]

    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "too large to attach" in text
    link = re.search(r"http://testserver(/downloads/\S+)", text)
    assert link is not None
    download = Client().get(link.group(1))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"store_id,")  # type: ignore[attr-defined]


def test_an_smtp_server_that_is_down_is_a_failed_attempt_retried_later(owners: Owners, settings: Settings) -> None:
    settings.EMAIL_BACKEND = "subscriptions.mail_backend.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    subscription_id = subscribe(owners, email_to=["ops@alpha.example"])

    send_now(owners, subscription_id)

    attempt = Delivery.objects.get()
    assert attempt.status == Delivery.Status.RETRYING and attempt.retry_at is not None
    assert attempt.error == "connection refused"
    assert SubscriptionRun.objects.get().status == SubscriptionRun.Status.DONE


def test_a_period_without_any_measured_time_says_no_data(owners: Owners, smtp_server: SmtpServer) -> None:
    Poll.objects.all().delete()
    PollFactory(store=Store.objects.get(id="a-up"), timestamp_utc=owners.yesterday[0] - timedelta(days=30))
    subscription_id = subscribe(owners, email_to=["ops@alpha.example"])

    send_now(owners, subscription_id)

    message = smtp_server.messages[0]
    assert message["Subject"].startswith("Alpha Pizza: no data during business hours, ")
    assert "Overall uptime: — %" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
