"""The operator's own tables: the database's throttle counters."""

from __future__ import annotations

from django.db import models

#: The longest client key stored as it is; a longer one is stored by its digest (:mod:`operations.throttling`).
CLIENT_KEY_LENGTH = 200


class ThrottleWindow(models.Model):
    """One client's call count in its current throttle window (:mod:`operations.throttling`), when no Redis is set.

    One row per client and scope, reset when a new window starts, so the
    table holds one row for each client seen; rows idle for a day are
    deleted by the daily prune.
    """

    #: DRF's cache key of the client and scope, e.g. ``throttle_user_7``.
    client_key = models.CharField(max_length=CLIENT_KEY_LENGTH, primary_key=True)
    #: When the counted window ends, in whole seconds since the epoch (the same clock as DRF's throttles).
    window_end = models.BigIntegerField(db_index=True)
    hits = models.PositiveIntegerField()

    class Meta:
        verbose_name = "throttle window"

    def __str__(self) -> str:
        return f"{self.client_key}: {self.hits} until {self.window_end}"
