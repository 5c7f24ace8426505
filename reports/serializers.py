"""Shapes of the report API's input and output."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from rest_framework import serializers

REPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{16,43}$"

# A report reads the week before `now` and the local days around it; near
# datetime's limits (years 1 and 9999) that overflows in the worker, so such
# an `as_of` is refused here. The same years as a poll's timestamp.
AS_OF_RANGE = "must be between 1900-01-01 and 9998-12-31 (UTC)"
EARLIEST_AS_OF = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_AS_OF = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class TriggerReportInput(serializers.Serializer[None]):
    as_of = serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[MinValueValidator(EARLIEST_AS_OF, AS_OF_RANGE), MaxValueValidator(LATEST_AS_OF, AS_OF_RANGE)],
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
    # Not allow_null: a nullable field missing from the body would be rendered as null, so
    # Running and Failed answers would carry "started_at": null even when the report started.
    started_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField(required=False)
