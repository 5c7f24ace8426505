"""A report run: when it was asked for, for which ``now``, how far it got, and its CSV.

The CSV itself lives in Django storage (``MEDIA_ROOT/reports/`` by default),
not in the database, so the table stays small whatever the store count.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_report_id() -> str:
    """22 URL-safe characters carrying 128 random bits: unguessable, short enough to paste."""
    return secrets.token_urlsafe(16)


class Report(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=43, default=new_report_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="The report's `now`; fixed when it is triggered.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    stores_total = models.PositiveIntegerField(default=0)
    stores_done = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    csv_file = models.FileField(upload_to="reports/", blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"report {self.id} ({self.status})"

    @property
    def progress(self) -> float:
        if self.status == self.Status.COMPLETE:
            return 1.0
        if not self.stores_total:
            return 0.0
        return min(1.0, self.stores_done / self.stores_total)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETE, self.Status.FAILED)
