"""Shapes of the report API's input and output."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from rest_framework import serializers

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


class AsOfInput(serializers.Serializer[None]):
    as_of = StrictDateTimeField(
        required=False,
        allow_null=True,
        validators=[MinValueValidator(EARLIEST_INSTANT, AS_OF_RANGE), MaxValueValidator(LATEST_AS_OF, AS_OF_RANGE)],
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
    rows = serializers.IntegerField(required=False)
    # Not allow_null: a nullable field missing from the body would be rendered as null, so
    # Running and Failed answers would carry "started_at": null even when the report started.
    started_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField(required=False)
