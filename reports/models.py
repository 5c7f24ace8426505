"""A report run: when it was asked for, for which ``now``, how far it got, and its CSV.

The CSV itself lives in Django storage (``MEDIA_ROOT/reports/`` by default),
not in the database, so the table stays small whatever the store count; so
does its extended CSV (:mod:`reports.extended_csv`), stored beside it.
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

    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed windows (last hour, day, week)"
        PERIOD = "period", "Period [start, end)"

    id = models.CharField(primary_key=True, max_length=43, default=new_report_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    as_of = models.DateTimeField(null=True, blank=True, help_text="The report's `now`; fixed when it is triggered.")
    kind = models.CharField(
        max_length=10,
        choices=Kind.choices,
        default=Kind.FIXED,
        help_text="fixed: the three windows ending at `now`; period: one period [start, end) (SEMANTICS v2).",
    )
    start = models.DateTimeField(null=True, blank=True, help_text="A period report's start (included).")
    end = models.DateTimeField(null=True, blank=True, help_text="A period report's end (excluded).")
    sla_target = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="A period report's SLA target in percent; none: no SLA columns.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        help_text="Whose stores the report covers; none: the fleet report (all stores), staff only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the first plan started; a re-plan keeps it."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    stores_total = models.PositiveIntegerField(default=0)
    stores_done = models.PositiveIntegerField(default=0)
    shards_total = models.PositiveIntegerField(default=0)
    shards_done = models.PositiveIntegerField(default=0)
    max_poll_id = models.BigIntegerField(
        null=True, blank=True, help_text="Polls stored after planning (higher ids) are not part of this report."
    )
    data_version = models.BigIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The data version (stores.DataVersion) when triggered; an equal trigger on it reuses this report.",
    )
    plan_attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a plan claimed the report; only the latest plan's shards count."
    )
    planned_at = models.DateTimeField(null=True, blank=True, help_text="When the plan had written every shard.")
    plan_renewed_at = models.DateTimeField(
        null=True, blank=True, help_text="The latest plan's claim, renewed by its worker's heartbeat while it writes."
    )
    assembling_since = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True, help_text="Last time recovery looked at it.")
    rows = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    csv_file = models.FileField(upload_to="reports/", blank=True)
    extended_csv_file = models.FileField(
        upload_to="reports/",
        blank=True,
        help_text="The CSV with the extended columns, stored by a worker once the report is complete.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"report {self.id} ({self.status})"

    @property
    def is_period(self) -> bool:
        return self.kind == self.Kind.PERIOD

    @property
    def progress(self) -> float:
        """Finished shards over all shards; 1.0 only once the CSV is stored."""
        if self.status == self.Status.COMPLETE:
            return 1.0
        if not self.shards_total:
            return 0.0
        return min(0.99, self.shards_done / self.shards_total)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETE, self.Status.FAILED)

    def planned_shards(self) -> models.QuerySet[ReportShard]:
        """The shards of the report's latest plan, in CSV order; an abandoned plan's leftovers are not among them."""
        return self.shards.filter(plan_attempt=self.plan_attempts).order_by("index")


class ReportShard(models.Model):
    """One slice of a report's stores, computed by whichever worker claims it.

    The shard carries everything its worker must not read from live tables:
    its store ids and those stores' hours and zones as of the moment the
    report was planned (``inputs``), so every shard of a report sees one
    snapshot however long the report takes. Its result (``rows_csv``) is
    stored with its ``complete`` status in one update conditional on the
    claim (``claim_token``) that computed it, so a shard run twice is counted
    once and a worker whose claim was taken over changes nothing. A plan
    whose worker died half-way is planned again from scratch; the new plan's
    shards carry the next ``plan_attempt``, and the old ones are ignored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="shards")
    plan_attempt = models.PositiveSmallIntegerField(default=1, help_text="The report's plan that wrote this shard.")
    index = models.PositiveIntegerField()
    stores = models.PositiveIntegerField()
    inputs = models.JSONField(help_text="[[store_id, timezone, [[day, start, end], ...]], ...] at planning time")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the claim was made or last renewed by its worker's heartbeat."
    )
    claimed_by = models.CharField(max_length=100, blank=True)
    claim_token = models.CharField(
        max_length=32, blank=True, help_text="The current claim; every later move of the shard must carry it."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    rows_csv = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["report", "plan_attempt", "index"]
        constraints = [
            models.UniqueConstraint(fields=["report", "plan_attempt", "index"], name="report_shard_index_unique")
        ]

    def __str__(self) -> str:
        return f"shard {self.index} of {self.report_id} ({self.status})"
