"""Scheduled delivery: an organization's subscriptions, each scheduled run, and every delivery attempt.

A :class:`Subscription` says when (cadence, local send hour, timezone) and
where (email recipients, a webhook) an organization's period report goes.
The scheduler claims a due subscription by moving its ``next_run_at``
forward in one conditional update, which creates one :class:`SubscriptionRun`;
the run triggers a period report and, once it is complete, makes one
:class:`Delivery` row per attempt per channel target. Reads are scoped through
:mod:`subscriptions.selectors`, never by hand.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from subscriptions import rules
from subscriptions.cadence import Cadence


def new_public_id() -> str:
    """16 URL-safe characters (96 random bits): an id that tells nothing about how many there are."""
    return secrets.token_urlsafe(12)


class Subscription(models.Model):
    class Cadence(models.TextChoices):
        DAILY = Cadence.DAILY.value, "daily (the previous local day)"
        WEEKLY = Cadence.WEEKLY.value, "weekly (the previous week, Monday to Monday)"
        MONTHLY = Cadence.MONTHLY.value, "monthly (the previous calendar month)"

    id = models.CharField(primary_key=True, max_length=22, default=new_public_id, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="subscriptions"
    )
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    send_hour = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(23)], help_text="Local hour (0-23) of the send."
    )
    timezone = models.CharField(max_length=64, help_text="Where the send hour and the period's days are counted.")
    sla_target = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="The SLA target of the period report, in percent.",
    )
    email_to = models.JSONField(default=list, blank=True, help_text="Email recipients.")
    webhook_url = models.URLField(max_length=2000, blank=True)
    webhook_secret = models.CharField(max_length=100, help_text="Signs webhooks; shown once, at creation or rotation.")
    previous_webhook_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until then the previous secret signs too, after a rotation."
    )
    next_run_at = models.DateTimeField(db_index=True, help_text="The next send (UTC); the scheduler claims by it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization__slug", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.cadence} report of {self.organization_id} at {self.send_hour:02d}:00 {self.timezone}"

    def clean(self) -> None:
        """Every rule of :mod:`subscriptions.rules`, each error on its field."""
        errors: dict[str, list[str]] = {}
        try:
            self.email_to = rules.check_email_to(self.email_to)
        except ValidationError as error:
            errors["email_to"] = error.messages
        try:
            rules.check_timezone(self.timezone)
        except ValidationError as error:
            errors["timezone"] = error.messages
        if self.webhook_url:
            try:
                rules.check_webhook_url(self.webhook_url)
            except ValidationError as error:
                errors["webhook_url"] = error.messages
        if not errors:
            try:
                rules.check_channels(self.email_to, self.webhook_url)
            except ValidationError as error:
                errors["__all__"] = error.messages
        if errors:
            raise ValidationError(errors)

    @property
    def channels(self) -> list[str]:
        return [name for name, used in (("email", bool(self.email_to)), ("webhook", bool(self.webhook_url))) if used]


class SubscriptionRun(models.Model):
    """One send of a subscription: the period it covers, the report computed for it, and how far it got."""

    class Status(models.TextChoices):
        PENDING = "pending", "waiting to start its report"
        REPORTING = "reporting", "report computing"
        DELIVERING = "delivering", "delivering"
        DONE = "done", "sent to every channel (see its deliveries)"
        FAILED = "failed", "failed before delivery"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "scheduled"
        SEND_NOW = "send_now", "send now"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    due_at = models.DateTimeField(help_text="The scheduled send it stands for, or when Send now was asked.")
    start = models.DateTimeField(help_text="The period's start (included), UTC.")
    end = models.DateTimeField(help_text="The period's end (excluded), UTC.")
    report = models.ForeignKey(
        "reports.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_runs"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a scheduler claimed it to start.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} of subscription {self.subscription_id} ({self.status})"


class Delivery(models.Model):
    """One attempt to send one run to one target: an email address or the webhook.

    Attempts of the same delivery share ``message_id`` (the webhook's
    ``webhook-id``) and count up ``attempt``. A failed attempt is ``retrying``
    until its ``retry_at``; the scheduler claims it by moving it to
    ``retried`` in a conditional update, so each retry is made once. The last
    attempt allowed ends ``failed``.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "email"
        WEBHOOK = "webhook", "webhook"

    class Status(models.TextChoices):
        SENDING = "sending", "sending"
        DELIVERED = "delivered", "delivered"
        RETRYING = "retrying", "failed, will be retried"
        RETRIED = "retried", "failed, retried"
        FAILED = "failed", "failed, no more attempts"

    run = models.ForeignKey(SubscriptionRun, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.CharField(max_length=2000, help_text="The email address, or the webhook URL.")
    message_id = models.CharField(max_length=40, help_text="The same across the attempts of one delivery.")
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING, db_index=True)
    response = models.CharField(
        max_length=500, blank=True, help_text="The SMTP server's reply, or the HTTP status and reason."
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When this failed attempt will be tried again."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.target}, attempt {self.attempt} ({self.status})"
