"""The record of every load: :class:`IngestRun`.

Every way a file gets in (the ``ingest`` command, the admin's upload
screens, the ``/ingest/<kind>`` API, the inbox) goes through
:mod:`ingestion.runs`, which keeps one run per file: who sent what, how far
the load got, what it changed and which rows it rejected.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from ingestion.kinds import ingest_kind_choices

#: ``app_label.codename`` of the permission that lets an account call the ingestion API.
INGEST_PERMISSION = "ingestion.ingest"


class IngestRun(models.Model):
    class Source(models.TextChoices):
        COMMAND = "command", "command"
        ADMIN = "admin", "admin"
        API = "api", "API"
        INBOX = "inbox", "inbox"

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        COMPLETE = "complete", "complete"
        FAILED = "failed", "failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSON = "json", "JSON"

    kind = models.CharField(max_length=20, choices=ingest_kind_choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ingest_runs"
    )
    file_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    read = models.PositiveIntegerField(default=0, help_text="Data rows read.")
    stored = models.PositiveIntegerField(default=0, help_text="New rows stored.")
    updated = models.PositiveIntegerField(default=0, help_text="Stored rows changed.")
    removed = models.PositiveIntegerField(default=0, help_text="Hours: stored rows no longer in a store's schedule.")
    unchanged = models.PositiveIntegerField(default=0, help_text="Accepted rows already stored as they are.")
    rejected = models.PositiveIntegerField(default=0)
    stores_unchanged = models.PositiveIntegerField(
        default=0, help_text="Hours: stores whose every row was rejected, so they kept their schedule."
    )
    rejects_shown = models.JSONField(default=list, blank=True, help_text="The first rejected rows: line and reason.")
    rejects_file = models.FileField(upload_to="ingest-runs/", blank=True, help_text="Every rejected row, as CSV.")
    upload = models.FileField(
        upload_to="ingest-uploads/", blank=True, help_text="A large upload waiting for a worker; deleted once loaded."
    )
    source_path = models.CharField(max_length=500, blank=True, help_text="Inbox: where the file was moved.")
    idempotency_key = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("ingest", "Can load data files through the ingestion API")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ingest_run_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        """Bytes read over the file's size; 1.0 once finished."""
        if self.status != self.Status.RUNNING:
            return 1.0
        if not self.bytes_total:
            return 0.0
        return min(0.99, self.bytes_done / self.bytes_total)

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at
