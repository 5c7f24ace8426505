"""Delivering a run: one attempt per target and channel, each recorded, a failure retried with backoff.

A run whose report is complete is claimed once (``reporting`` → ``done``, in
the same transaction that writes a first attempt per target: every email
recipient, and the webhook); then each attempt is made. An attempt that fails
is ``retrying`` until ``retry_at``, the next of ``DELIVERY_RETRY_SECONDS``
(1 min, 5 min, 30 min, 2 h, 6 h); the scheduler's minute claims it
(``retrying`` → ``retried``) and makes the next attempt, with the same
``message_id`` (the webhook's ``webhook-id``). After the last delay the
attempt ends ``failed``. An attempt still ``sending`` after
:data:`SENDING_LEASE` lost its worker: it counts as failed, and is retried.
"""

from __future__ import annotations

import logging
import secrets
import socket
import ssl
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from operations.metrics import delivery_observe
from reports.models import Report
from subscriptions.content import Content, run_content
from subscriptions.emails import email_send
from subscriptions.models import Delivery, SubscriptionRun
from subscriptions.services import signing_secrets
from subscriptions.signing import webhook_headers
from subscriptions.webhook_http import WebhookUrlRefused, webhook_post

logger = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=10)
ERROR_LIMIT = 500


def new_message_id() -> str:
    return f"msg_{secrets.token_urlsafe(18)}"


def run_fail(run_id: int, error: str) -> None:
    """End an unfinished run ``failed``: nothing of it is sent."""
    SubscriptionRun.objects.filter(id=run_id).exclude(
        status__in=[SubscriptionRun.Status.DONE, SubscriptionRun.Status.FAILED]
    ).update(status=SubscriptionRun.Status.FAILED, error=error[:ERROR_LIMIT], finished_at=timezone.now())


def run_deliver(run_id: int) -> int:
    """Deliver a run whose report has finished; 1 if this call took it (delivered or failed it), else 0."""
    finished = [Report.Status.COMPLETE, Report.Status.FAILED]
    with transaction.atomic():
        run = (
            SubscriptionRun.objects.select_for_update(of=("self",))
            .select_related("report", "subscription__organization")
            .filter(id=run_id, status=SubscriptionRun.Status.REPORTING, report__status__in=finished)
            .first()
        )
        if run is None:
            return 0
        assert run.report is not None
        if run.report.status == Report.Status.FAILED:
            run_fail(run.id, f"its report failed: {run.report.error}")
            return 1
        subscription = run.subscription
        targets = [(Delivery.Channel.EMAIL, address) for address in subscription.email_to]
        if subscription.webhook_url:
            targets.append((Delivery.Channel.WEBHOOK, subscription.webhook_url))
        attempts = [
            Delivery(run=run, subscription=subscription, channel=channel, target=target, message_id=new_message_id())
            for channel, target in targets
        ]
        Delivery.objects.bulk_create(attempts)
        SubscriptionRun.objects.filter(id=run.id).update(status=SubscriptionRun.Status.DONE, finished_at=timezone.now())
    try:
        content = run_content(run)
    except FileNotFoundError:
        content = None
    for attempt in Delivery.objects.filter(run=run, status=Delivery.Status.SENDING, attempt=1):
        attempt_make(attempt, content)
    return 1


def _error_text(error: BaseException) -> str:
    """What the delivery log says went wrong, in words, not a traceback."""
    if isinstance(error, WebhookUrlRefused):
        return f"refused: {error}"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"no answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s (timed out)"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    return f"{type(error).__name__}: {error}"[:ERROR_LIMIT]


def _send(attempt: Delivery, content: Content) -> tuple[bool, str]:
    """Make the attempt; ``(delivered, what the receiver answered)``. Raises on a failure to reach it."""
    if attempt.channel == Delivery.Channel.EMAIL:
        return True, email_send(content, attempt.target)[:500]
    body = content.webhook_body()
    sent_at = timezone.now()
    headers = webhook_headers(
        message_id=attempt.message_id,
        sent_at=sent_at,
        body=body.decode(),
        signing_secrets=signing_secrets(attempt.subscription, sent_at),
    )
    status, reason = webhook_post(
        attempt.target,
        body,
        headers,
        timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE,
    )
    return 200 <= status < 300, f"HTTP {status} {reason}".strip()


def attempt_make(attempt: Delivery, content: Content | None) -> Delivery.Status:
    """Make one attempt and record it: delivered, retrying (with its ``retry_at``) or, after the last, failed."""
    response, error = "", ""
    delivered = False
    if content is None:
        error = "the report's CSV is no longer stored"
    else:
        try:
            delivered, response = _send(attempt, content)
        except Exception as failure:  # every failure to deliver is recorded and retried, whatever it is
            error = _error_text(failure)
            logger.info("delivery %s (%s to %s) failed: %s", attempt.id, attempt.channel, attempt.target, error)
    if not delivered and not error:
        error = f"the receiver answered {response}, not 2xx"
    return attempt_record(attempt, delivered=delivered, response=response, error=error)


def attempt_record(attempt: Delivery, *, delivered: bool, response: str, error: str) -> Delivery.Status:
    delays = settings.DELIVERY_RETRY_SECONDS
    now = timezone.now()
    if delivered:
        status, retry_at = Delivery.Status.DELIVERED, None
    elif attempt.attempt <= len(delays):
        status, retry_at = Delivery.Status.RETRYING, now + timedelta(seconds=delays[attempt.attempt - 1])
    else:
        status, retry_at = Delivery.Status.FAILED, None
    Delivery.objects.filter(id=attempt.id, status=Delivery.Status.SENDING).update(
        status=status, response=response[:500], error=error[:ERROR_LIMIT], finished_at=now, retry_at=retry_at
    )
    delivery_observe(channel=attempt.channel, outcome=status)
    return status


def attempts_release_stale(now: datetime) -> int:
    """Attempts left ``sending`` by a worker that died: failed, so the usual retry follows."""
    released = 0
    for attempt in Delivery.objects.filter(status=Delivery.Status.SENDING, started_at__lt=now - SENDING_LEASE):
        attempt_record(attempt, delivered=False, response="", error="the worker sending it stopped")
        released += 1
    return released


def deliveries_retry_due(now: datetime) -> int:
    """Make the next attempt of every delivery whose retry is due and that this caller claimed; how many."""
    attempts_release_stale(now)
    made = 0
    contents: dict[int, Content | None] = {}
    due = Delivery.objects.filter(status=Delivery.Status.RETRYING, retry_at__lte=now).select_related(
        "run__report", "subscription__organization"
    )
    for failed in due.order_by("retry_at", "id"):
        if not Delivery.objects.filter(id=failed.id, status=Delivery.Status.RETRYING).update(
            status=Delivery.Status.RETRIED
        ):
            continue
        subscription = failed.subscription
        still_a_target = (
            failed.target.lower() in {address.lower() for address in subscription.email_to}
            if failed.channel == Delivery.Channel.EMAIL
            else failed.target == subscription.webhook_url
        )
        if not still_a_target:
            continue  # unsubscribed, or the webhook changed since: nothing more to send there
        retry = Delivery.objects.create(
            run=failed.run,
            subscription=subscription,
            channel=failed.channel,
            target=failed.target,
            message_id=failed.message_id,
            attempt=failed.attempt + 1,
        )
        if failed.run_id not in contents:
            try:
                contents[failed.run_id] = run_content(failed.run)
            except FileNotFoundError:
                contents[failed.run_id] = None
        attempt_make(retry, contents[failed.run_id])
        made += 1
    return made
