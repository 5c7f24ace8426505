"""Shapes of the subscriptions API. The rules themselves are the model's (:mod:`subscriptions.rules`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reports.api.serializers import sla_target_field
from subscriptions.models import Delivery, Subscription, SubscriptionRun
from subscriptions.services import Rotated


class SubscriptionInput(serializers.Serializer[None]):
    """What a client may send; on PATCH every field is optional and ``organization`` cannot change."""

    organization = serializers.CharField(
        required=False,
        max_length=50,
        help_text="The organization's slug; required of a member of several organizations, and of staff.",
    )
    cadence = serializers.ChoiceField(choices=Subscription.Cadence.choices)
    send_hour = serializers.IntegerField(min_value=0, max_value=23, help_text="Local hour of the send, 0-23.")
    timezone = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text="IANA name; default the organization's."
    )
    sla_target = sla_target_field("Percent; default the organization's.")
    email_to = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=100, help_text="Recipients."
    )
    webhook_url = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=2000, help_text="An https URL."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.partial and "organization" in attrs:
            raise serializers.ValidationError({"organization": ["a subscription cannot move to another organization"]})
        return attrs


class SubscriptionOutput(serializers.ModelSerializer[Subscription]):
    organization = serializers.CharField(source="organization.slug", read_only=True)
    channels = serializers.ListField(child=serializers.CharField(), read_only=True)
    previous_secret_valid_until = serializers.DateTimeField(source="previous_secret_expires_at", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "organization",
            "cadence",
            "send_hour",
            "timezone",
            "sla_target",
            "email_to",
            "webhook_url",
            "channels",
            "next_run_at",
            "previous_secret_valid_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CreatedSubscriptionOutput(SubscriptionOutput):
    webhook_secret = serializers.CharField(read_only=True, help_text="Shown only in this answer; keep it.")

    class Meta(SubscriptionOutput.Meta):
        fields = [*SubscriptionOutput.Meta.fields, "webhook_secret"]
        read_only_fields = fields


class RotatedSecretOutput(serializers.Serializer[Rotated]):
    webhook_secret = serializers.CharField(help_text="The new secret; shown only in this answer.")
    previous_secret_valid_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        help_text="Until then the previous secret signs too (both signatures, space-separated).",
    )


class RunOutput(serializers.ModelSerializer[SubscriptionRun]):
    report_id = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = SubscriptionRun
        fields = ["id", "trigger", "status", "start", "end", "report_id", "error", "created_at", "finished_at"]
        read_only_fields = fields


class DeliveryOutput(serializers.ModelSerializer[Delivery]):
    report_id = serializers.CharField(source="run.report_id", allow_null=True, read_only=True)
    start = serializers.DateTimeField(source="run.start", read_only=True)
    end = serializers.DateTimeField(source="run.end", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "run",
            "report_id",
            "start",
            "end",
            "channel",
            "target",
            "message_id",
            "attempt",
            "status",
            "response",
            "error",
            "started_at",
            "finished_at",
            "retry_at",
        ]
        read_only_fields = fields
