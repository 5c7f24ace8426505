"""The stores, their polls, business hours and timezones.

Store ids follow :func:`stores.rules.store_id_problem` (real ones are 19-digit
numbers, but nothing here relies on that). A poll is keyed by
``(store, timestamp_utc)``: the unique constraint both enforces the
"one row per instant" rule and is the index the report scans by store and
time.
"""

from __future__ import annotations

from django.db import models

from stores.rules import STORE_ID_MAX_LENGTH


class PollStatus(models.TextChoices):
    ACTIVE = "active", "active"
    INACTIVE = "inactive", "inactive"


class Store(models.Model):
    """A restaurant store. ``timezone`` is null when no timezone row was ever
    loaded for it; the report then uses ``America/Chicago``."""

    id = models.CharField(primary_key=True, max_length=STORE_ID_MAX_LENGTH, verbose_name="store id")
    timezone = models.CharField(max_length=64, null=True, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stores",
        help_text="The organization that owns the store; none: visible to staff only.",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class Poll(models.Model):
    # No index of its own: the unique (store, timestamp_utc) index serves store
    # lookups. No database constraint either: checking it row by row was the
    # largest single cost of a 1.8M-row load; the bulk loader inserts the stores
    # of a file in the same transaction before its polls, and deletes cascade
    # in the ORM.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="polls", db_index=False, db_constraint=False
    )
    timestamp_utc = models.DateTimeField()
    status = models.CharField(max_length=8, choices=PollStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "timestamp_utc"], name="poll_store_timestamp_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.timestamp_utc.isoformat()} {self.status}"


class BusinessHours(models.Model):
    """One opening shift in local wall-clock time. An ``end`` earlier than
    ``start`` runs past midnight; ``end == start`` is a 24-hour shift."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    # No database constraint, as for polls: PostgreSQL checks a deferred one
    # row by row at commit, which was a second of the 86k-row hours file's
    # load (half of it). Every loader creates a file's stores in the same
    # transaction before their hours, and deletes cascade in the ORM.
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="business_hours", db_index=False, db_constraint=False
    )
    day_of_week = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time_local = models.TimeField()
    end_time_local = models.TimeField()

    class Meta:
        verbose_name_plural = "business hours"
        # By the column, not "store": that follows Store's own ordering through a join
        # with every store (a report's 2,000-store chunk of hours: 30 ms against 11 ms).
        ordering = ["store_id", "day_of_week", "start_time_local"]
        indexes = [models.Index(fields=["store", "day_of_week"], name="hours_store_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day_of_week__gte=0, day_of_week__lte=6), name="hours_day_of_week_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.get_day_of_week_display()} {self.start_time_local}-{self.end_time_local}"


class DataVersion(models.Model):
    """One row counting the changes to what a report reads: polls, hours, zones and store ownership.

    Every writer of those bumps it in the transaction that changes them
    (:func:`stores.data_version.data_version_bump`), and a report records
    the value it was triggered at, so an equal trigger on unchanged data can
    be answered with that report instead of computing it again.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"data version {self.version}"
