"""Shapes of the report API's input and output."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

REPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,43}$"


class TriggerReportInput(serializers.Serializer[None]):
    as_of = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The report's `now` (UTC unless an offset is given). Default: the latest poll in the database.",
    )


class ReportIdInput(serializers.Serializer[None]):
    report_id = serializers.CharField(
        max_length=43,
        validators=[RegexValidator(REPORT_ID_PATTERN, "a report id is 16-43 characters of A-Z a-z 0-9 _ -")],
    )


class TriggerReportOutput(serializers.Serializer[None]):
    report_id = serializers.CharField()


class ReportStatusOutput(serializers.Serializer[None]):
    report_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["Running", "Complete", "Failed"])
    progress = serializers.FloatField(required=False, help_text="0.0-1.0, while Running")
    error = serializers.CharField(required=False, help_text="why it failed, when Failed")
    download_url = serializers.URLField(required=False)
    as_of = serializers.DateTimeField(required=False)
    rows = serializers.IntegerField(required=False)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    finished_at = serializers.DateTimeField(required=False, allow_null=True)
