"""The JSON of an :class:`~ingestion.models.IngestRun`."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from ingestion.models import IngestRun


class IngestRunSerializer(serializers.ModelSerializer[IngestRun]):
    user: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.FloatField(read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    rejects = serializers.JSONField(source="rejects_shown", read_only=True, help_text="The first 100 rejected rows.")
    rejects_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = IngestRun
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "source",
            "user",
            "file_name",
            "format",
            "progress",
            "read",
            "stored",
            "updated",
            "removed",
            "unchanged",
            "rejected",
            "stores_unchanged",
            "rejects",
            "rejects_url",
            "error",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, run: IngestRun) -> float | None:
        return None if run.duration is None else round(run.duration.total_seconds(), 3)

    def _absolute(self, path: str) -> str:
        request: Any = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, run: IngestRun) -> str:
        return self._absolute(reverse("ingest_run", args=[run.pk]))

    def get_rejects_url(self, run: IngestRun) -> str | None:
        return self._absolute(reverse("ingest_run_rejects", args=[run.pk])) if run.rejects_file else None
