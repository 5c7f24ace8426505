"""Shapes of the report API's input and output."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from rest_framework import serializers

from reports.engine.calendar_periods import PERIOD_NAMES
from reports.engine.period import LONGEST_PERIOD
from reports.engine.units import instant_delta
from reports.models import Report
from stores.rules import EARLIEST_INSTANT, END_OF_INSTANTS, RANGE_TEXT, parse_iso_datetime

#: What the API calls each stored status: a pending report is Running to a client.
API_STATUS = {
    Report.Status.PENDING: "Running",
    Report.Status.RUNNING: "Running",
    Report.Status.COMPLETE: "Complete",
    Report.Status.FAILED: "Failed",
}

REPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,43}$"

AS_OF_RANGE = f"must be {RANGE_TEXT}"
LATEST_AS_OF = END_OF_INSTANTS - timedelta(microseconds=1)


class StrictDateTimeField(serializers.DateTimeField):
    """DRF's field, but text is read by :func:`stores.rules.parse_iso_datetime`.

    DRF hands text to Django's ``parse_datetime``, i.e. Python's
    ``fromisoformat``, which in 3.11 stops at a NUL and ignores the rest:
    ``2023-01-25T18:00:00Z\x00anything`` would be a valid ``as_of``.
    """

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = parse_iso_datetime(value.strip())
            except ValueError:
                self.fail("invalid", format="ISO 8601, e.g. 2023-01-25T18:00:00Z")
        return super().to_internal_value(value)


INSTANT_RANGE = [MinValueValidator(EARLIEST_INSTANT, AS_OF_RANGE), MaxValueValidator(LATEST_AS_OF, AS_OF_RANGE)]


def sla_target_field(help_text: str) -> serializers.DecimalField:
    """An optional SLA target in percent, 0-100, to 3 decimals (as the models store it); ``null``: the default."""
    return serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        allow_null=True,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=help_text,
    )


class AsOfInput(serializers.Serializer[None]):
    as_of = StrictDateTimeField(
        required=False,
        allow_null=True,
        validators=INSTANT_RANGE,
        help_text="The report's `now` (UTC unless an offset is given). Default: the latest poll in the database.",
    )


class TriggerReportInput(AsOfInput):
    organization = serializers.CharField(
        required=False,
        max_length=50,
        help_text=(
            "The slug of the organization whose report to run. Required of a member of several organizations; "
            "staff get the fleet report (every store) without it."
        ),
    )
    start = StrictDateTimeField(
        required=False,
        allow_null=True,
        validators=INSTANT_RANGE,
        help_text="A period report's start, included (ISO 8601, UTC unless an offset is given); with `end`.",
    )
    end = StrictDateTimeField(
        required=False,
        allow_null=True,
        validators=INSTANT_RANGE,
        help_text="A period report's end, excluded; at most 93 days after `start`.",
    )
    period = serializers.ChoiceField(
        choices=list(PERIOD_NAMES),
        required=False,
        allow_null=True,
        help_text="A named period relative to the report's `now`, in the organization's timezone (UTC for the fleet).",
    )
    sla_target = sla_target_field(
        "A period report's SLA target in percent; default the organization's, none for a fleet report."
    )

    fresh = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Compute a new report even when an equal one (same scope, now, period, SLA target, unchanged data) "
            "exists; by default that one is the answer (200)."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """``start`` and ``end``, or ``period``, or neither (the fixed report); ``sla_target`` only with a period."""
        start, end, period = attrs.get("start"), attrs.get("end"), attrs.get("period")
        if period is not None and (start is not None or end is not None):
            raise serializers.ValidationError("give either start and end, or period, not both")
        if (start is None) != (end is None):
            raise serializers.ValidationError("give both start and end")
        if attrs.get("sla_target") is not None and period is None and start is None:
            raise serializers.ValidationError("sla_target is for a period report: give start and end, or period")
        if start is not None and end is not None:
            if not start < end:
                raise serializers.ValidationError({"end": "end must be after start"})
            if end - start > instant_delta(LONGEST_PERIOD):
                raise serializers.ValidationError({"end": "a period is at most 93 days"})
        return attrs

    @property
    def is_period(self) -> bool:
        data = self.validated_data
        return data.get("period") is not None or data.get("start") is not None


class ReportIdInput(serializers.Serializer[None]):
    report_id = serializers.CharField(
        max_length=43,
        validators=[RegexValidator(REPORT_ID_PATTERN, "a report id is 16-43 characters of A-Z a-z 0-9 _ -")],
    )


class ReportColumnsInput(serializers.Serializer[None]):
    columns = serializers.ChoiceField(
        choices=["default", "extended"],
        default="default",
        help_text="`extended` adds uptime %, outage count and longest outage per window (see reports.extended_csv)",
    )


class TriggerReportOutput(serializers.Serializer[None]):
    report_id = serializers.CharField()


class ReportListItem(serializers.Serializer[Any]):
    """One report in ``GET /reports``: a fleet report's ``organization`` is null."""

    id = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="Running, Complete or Failed, as get_report says")
    organization = serializers.CharField(
        source="organization.slug", allow_null=True, help_text="its slug; null for a fleet report (every store)"
    )
    as_of = serializers.DateTimeField()
    created = serializers.DateTimeField(source="created_at")

    def get_status(self, report: Report) -> str:
        return API_STATUS[Report.Status(report.status)]


class ReportStatusOutput(serializers.Serializer[dict[str, Any]]):
    report_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["Running", "Complete", "Failed"])
    progress = serializers.FloatField(required=False, help_text="0.0-1.0, while Running")
    error = serializers.CharField(required=False, help_text="why it failed, when Failed")
    download_url = serializers.URLField(required=False)
    as_of = serializers.DateTimeField(required=False)
    kind = serializers.ChoiceField(choices=["fixed", "period"], required=False)
    start = serializers.DateTimeField(required=False, help_text="a period report's start (included)")
    end = serializers.DateTimeField(required=False, help_text="a period report's end (excluded)")
    sla_target = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        allow_null=True,
        help_text="a period report's SLA target, or null",
    )
    rows = serializers.IntegerField(required=False)
    # Not allow_null: a nullable field missing from the body would be rendered as null, so
    # Running and Failed answers would carry "started_at": null even when the report started.
    started_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField(required=False)

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        # sla_target is null for a period report without one, absent from every other answer.
        shaped: dict[str, Any] = super().to_representation(instance)
        if "sla_target" not in instance:
            shaped.pop("sla_target", None)
        return shaped
