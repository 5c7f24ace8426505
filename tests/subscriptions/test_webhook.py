"""A delivered report by webhook, received by a real HTTP server that checks Standard Webhooks signatures itself.

The receiver (``conftest.signature_valid``) verifies with its own few lines of
``hmac``; the service signs with the ``standardwebhooks`` package. Retries
are driven by the scheduler's minute, given the time the retry is due.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from pytest_django.fixtures import Settings

from subscriptions.models import Delivery, Subscription
from subscriptions.scheduling import scheduler_minute
from tests.subscriptions.conftest import Owners, WebhookReceiver, signature_valid

pytestmark = [pytest.mark.django_db(databases=["default", "reader"]), pytest.mark.usefixtures("q_sync")]


def half_a_day_away() -> int:
    """A send hour (alpha's zone is UTC) 11-12 hours from now.

    The retries below run the scheduler's minute at their due times, up to
    8.6 h ahead (``DELIVERY_RETRY_SECONDS``): a fixed send hour fell inside
    that window when the tests ran at night, and its scheduled send added a
    second chain of deliveries.
    """
    return (timezone.now().astimezone(UTC).hour + 12) % 24


def subscribe(owners: Owners, url: str) -> tuple[str, str]:
    response = owners.client(owners.alice).post(
        "/subscriptions", {"cadence": "daily", "send_hour": half_a_day_away(), "webhook_url": url}, format="json"
    )
    assert response.status_code == 201, response.content
    return str(response.json()["id"]), str(response.json()["webhook_secret"])


def send_now(owners: Owners, subscription_id: str) -> None:
    assert owners.client(owners.alice).post(f"/subscriptions/{subscription_id}/send_now").status_code == 202


def minute_after_retry() -> None:
    due = Delivery.objects.filter(status=Delivery.Status.RETRYING).order_by("retry_at").first()
    assert due is not None and due.retry_at is not None
    scheduler_minute(due.retry_at + timedelta(seconds=1))


def test_the_webhook_is_signed_thin_json_with_a_download_link_that_needs_no_token(
    owners: Owners, webhook_receiver: WebhookReceiver
) -> None:
    subscription_id, secret = subscribe(owners, webhook_receiver.url)
    delivered = {"channel": "webhook", "outcome": "delivered"}
    before = REGISTRY.get_sample_value("loopmonitor_deliveries_total", delivered) or 0

    send_now(owners, subscription_id)

    [received] = webhook_receiver.received
    assert REGISTRY.get_sample_value("loopmonitor_deliveries_total", delivered) == before + 1
    assert received.path == "/hooks/loop"
    assert received.headers["content-type"] == "application/json"
    assert signature_valid(secret, received.headers, received.body) == [True]
    assert received.headers["webhook-id"].startswith("msg_")
    assert abs(int(received.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    event = received.json
    assert event["type"] == "report.completed"
    data = event["data"]
    start, end = owners.yesterday
    assert (data["organization"], data["rows"]) == ("alpha", 2)
    assert (data["start"], data["end"]) == (start.isoformat(), end.isoformat())
    assert data["summary"]["uptime_percent"] == "75.00" and data["summary"]["sla_met"] == 1
    assert [s["store_id"] for s in data["summary"]["worst_stores"]] == ["a-flaky", "a-up"]
    path = data["download_url"].removeprefix("http://testserver")
    download = Client().get(path)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"store_id,business_hours")  # type: ignore[attr-defined]
    # Every other report URL keeps its auth.
    assert Client().get(f"/reports/{data['report_id']}/download").status_code == 401
    assert Delivery.objects.get().response == "HTTP 200 OK"


def test_a_500_is_retried_with_the_same_webhook_id_and_then_delivered(
    owners: Owners, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.answers = [500, 500]
    subscription_id, secret = subscribe(owners, webhook_receiver.url)

    send_now(owners, subscription_id)
    first = Delivery.objects.get()
    assert (first.status, first.response, first.attempt) == ("retrying", "HTTP 500 Internal Server Error", 1)
    assert first.retry_at is not None
    assert timedelta(seconds=55) < first.retry_at - first.finished_at <= timedelta(seconds=60)  # type: ignore[operator]
    scheduler_minute(first.retry_at - timedelta(seconds=1))
    assert len(webhook_receiver.received) == 1  # not due yet
    minute_after_retry()
    minute_after_retry()

    attempts = list(Delivery.objects.order_by("attempt"))
    assert [(a.attempt, a.status) for a in attempts] == [(1, "retried"), (2, "retried"), (3, "delivered")]
    second_delay = attempts[1].retry_at - attempts[1].finished_at  # type: ignore[operator]
    assert timedelta(seconds=295) < second_delay <= timedelta(seconds=300)
    ids = {received.headers["webhook-id"] for received in webhook_receiver.received}
    assert len(webhook_receiver.received) == 3 and ids == {attempts[0].message_id}
    assert all(signature_valid(secret, r.headers, r.body) == [True] for r in webhook_receiver.received)


def test_after_the_last_retry_the_delivery_is_marked_failed(
    owners: Owners, webhook_receiver: WebhookReceiver, settings: Settings
) -> None:
    webhook_receiver.answers = [503] * 10
    subscription_id, _ = subscribe(owners, webhook_receiver.url)

    send_now(owners, subscription_id)
    for _ in settings.DELIVERY_RETRY_SECONDS:
        minute_after_retry()

    statuses = list(Delivery.objects.order_by("attempt").values_list("status", flat=True))
    assert statuses == ["retried"] * len(settings.DELIVERY_RETRY_SECONDS) + ["failed"]
    assert Delivery.objects.get(status="failed").retry_at is None
    assert len(webhook_receiver.received) == 1 + len(settings.DELIVERY_RETRY_SECONDS)
    message_id = webhook_receiver.received[0].headers["webhook-id"]
    scheduler_minute(timezone.now() + timedelta(days=2))  # (the subscription's next daily send is due by then)
    assert Delivery.objects.filter(message_id=message_id).count() == 1 + len(settings.DELIVERY_RETRY_SECONDS)


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    owners: Owners, webhook_receiver: WebhookReceiver, settings: Settings
) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    webhook_receiver.answers = [2.0]
    subscription_id, _ = subscribe(owners, webhook_receiver.url)

    send_now(owners, subscription_id)

    attempt = Delivery.objects.get()
    assert attempt.status == "retrying" and attempt.response == ""
    assert attempt.error == "no answer within 0.5 s (timed out)"


def test_a_redirect_is_not_followed(owners: Owners, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.answers = [307]
    subscription_id, _ = subscribe(owners, webhook_receiver.url)

    send_now(owners, subscription_id)

    attempt = Delivery.objects.get()
    assert len(webhook_receiver.received) == 1
    assert (attempt.status, attempt.response) == ("retrying", "HTTP 307 Temporary Redirect")


def test_a_private_address_is_refused_at_send_time_too(
    owners: Owners, webhook_receiver: WebhookReceiver, settings: Settings
) -> None:
    listening = webhook_receiver.url.replace("http://", "https://")
    subscription_id, _ = subscribe(owners, listening)  # allowed here: the fixture allows private addresses
    settings.WEBHOOK_ALLOW_PRIVATE = False  # production's rule, checked again at every send (DNS may change)

    send_now(owners, subscription_id)

    assert webhook_receiver.received == []  # not even a connection: the receiver is listening there
    attempt = Delivery.objects.get()
    assert attempt.status == "retrying"
    assert attempt.error == (
        "refused: the host '127.0.0.1' resolves to a non-public address (127.0.0.1); "
        "webhooks go to public addresses only"
    )


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    owners: Owners, webhook_receiver: WebhookReceiver
) -> None:
    subscription_id, old = subscribe(owners, webhook_receiver.url)
    new = owners.client(owners.alice).post(f"/subscriptions/{subscription_id}/rotate_secret").json()["webhook_secret"]

    send_now(owners, subscription_id)
    received = webhook_receiver.received[-1]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert signature_valid(new, received.headers, received.body) == [True, False]
    assert signature_valid(old, received.headers, received.body) == [False, True]

    Subscription.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    send_now(owners, subscription_id)
    received = webhook_receiver.received[-1]
    assert signature_valid(new, received.headers, received.body) == [True]
    assert signature_valid(old, received.headers, received.body) == [False]
