"""DRF throttles that count calls in fixed windows, one atomic counter per client and window.

DRF's own throttles keep each client's recent call times as one list in the
cache, which every call reads, appends to and writes back. Two processes
that read the list at the same moment each write their own back, and one
call goes uncounted: under the load test the database cache let 2,300
calls through a ``1200/min`` limit. And the list, as long as the rate, is
unpickled and pickled again on every call.

Here a call adds one to its client's counter for the current window and is
refused once the counter passes the rate: exact under any concurrency, and
a few bytes per call. The price of a fixed window is the boundary: a client
may spend its limit at the end of one window and again at the start of the
next. Where the counter lives follows the cache:

* with Redis, Redis's own ``INCR`` (with its ``EXPIRE``, in one ``MULTI``);
* with the database cache, one upsert on :class:`operations.models.ThrottleWindow`,
  because the database cache's ``incr`` is a read and then a write;
* any other cache (the suite's per-process memory) through its ``incr``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from rest_framework import throttling

from operations.models import CLIENT_KEY_LENGTH, ThrottleWindow

if TYPE_CHECKING:  # DRF imports the throttle classes while it defines APIView
    from rest_framework.request import Request
    from rest_framework.views import APIView

#: Counter rows untouched this long are deleted by the daily schedule (:func:`forget_idle_counters`).
IDLE_COUNTER_SECONDS = 24 * 3600


def _database_hit(key: str, window_end: int) -> tuple[int, int]:
    """Count one call in the database; returns the window's count so far and its end.

    One statement, atomic on both databases: PostgreSQL locks the
    conflicting row, SQLite has one writer. A row from an earlier window
    starts again from one; a call whose clock is behind another process's
    (an earlier ``window_end``) is counted in the later window.

    On PostgreSQL the count commits without waiting for its WAL to reach
    the disk (``synchronous_commit = off``): every call of a client writes
    the same row, so a commit stalled on a WAL flush (this machine's stall
    every few seconds, 100–300 ms) held the row, and with it every other
    call of that client, for as long. A count lost in a crash costs nothing.
    Inside a transaction (an atomic view) the count is part of it and
    commits with it, row lock and all.
    """
    table = ThrottleWindow._meta.db_table
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic() if asynchronous else contextlib.nullcontext(), connection.cursor() as cursor:
        if asynchronous:
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            f"""
            INSERT INTO {table} (client_key, window_end, hits) VALUES (%s, %s, 1)
            ON CONFLICT (client_key) DO UPDATE SET
                hits = CASE WHEN excluded.window_end > {table}.window_end THEN 1 ELSE {table}.hits + 1 END,
                window_end = CASE
                    WHEN excluded.window_end > {table}.window_end THEN excluded.window_end ELSE {table}.window_end
                END
            RETURNING hits, window_end
            """,
            [key, window_end],
        )
        hits, counted_end = cursor.fetchone()
    return int(hits), int(counted_end)


def _redis_hit(cache: RedisCache, key: str, ttl: int) -> int:
    """Count one call in Redis: ``INCR`` and ``EXPIRE`` in one ``MULTI``, so a key never lives without its TTL.

    The cache's own ``incr`` is an ``EXISTS`` and then an ``INCR``: a key
    that expired between the two came back without a TTL and stayed.
    """
    redis_key = cache.make_and_validate_key(key)
    with _redis_client(_redis_location()).pipeline() as pipeline:
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, ttl)
        hits, _ = pipeline.execute()
    return int(hits)


def _redis_location() -> str:
    location = settings.CACHES[DEFAULT_CACHE_ALIAS]["LOCATION"]
    return str(location if isinstance(location, str) else location[0])  # the first server takes the writes


@functools.cache
def _redis_client(location: str) -> redis.Redis:
    return redis.Redis.from_url(location)


def _cache_hit(cache: BaseCache, key: str, ttl: int) -> int:
    """Count one call through the cache's ``add`` and ``incr`` (per-process memory, as in the suite: under a lock)."""
    while True:
        cache.add(key, 0, timeout=ttl)
        try:
            return int(cache.incr(key))
        except ValueError:  # evicted between the two calls: add it again
            continue


def _client_key(key: str) -> str:
    """DRF's key, or its digest when longer than the column: an anonymous client's is its ``X-Forwarded-For``."""
    if len(key) <= CLIENT_KEY_LENGTH:
        return key
    return "throttle_sha256_" + hashlib.sha256(key.encode()).hexdigest()


def count_call(key: str, window_end: int, duration: int) -> tuple[int, int]:
    """Count one call of ``key`` in the window ending at ``window_end``.

    Returns the window's count so far and the end of the window it was
    counted in (a later one, when another process's clock is ahead).
    """
    key = _client_key(key)
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, DatabaseCache):
        return _database_hit(key, window_end)
    # Kept a window past its end: a key that expired while its window was open would start the count again.
    window_key, ttl = f"{key}:{window_end}", 2 * duration
    if isinstance(cache, RedisCache):
        return _redis_hit(cache, window_key, ttl), window_end
    return _cache_hit(cache, window_key, ttl), window_end


def forget_idle_counters(now: float | None = None) -> int:
    """Delete the database counters of clients not seen for a day; returns how many. Scheduled daily."""
    now = time.time() if now is None else now
    deleted, _ = ThrottleWindow.objects.filter(window_end__lt=int(now) - IDLE_COUNTER_SECONDS).delete()
    return deleted


class WindowRateThrottle(throttling.SimpleRateThrottle):
    """DRF's ``SimpleRateThrottle`` with a fixed-window counter instead of a history list (see the module)."""

    window_end: int
    num_requests: int | None
    duration: int | None

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        assert self.num_requests is not None and self.duration is not None  # parsed from the rate
        self.now = self.timer()
        self.window_end = (int(self.now) // self.duration + 1) * self.duration
        hits, self.window_end = count_call(self.key, self.window_end, self.duration)
        return hits <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends and the count starts again (``Retry-After``)."""
        return max(0.0, self.window_end - self.now)


class AnonRateThrottle(throttling.AnonRateThrottle, WindowRateThrottle):
    """Calls per client address without credentials (``THROTTLE_ANON_RATE``)."""


class UserRateThrottle(throttling.UserRateThrottle, WindowRateThrottle):
    """Calls per authenticated user (``THROTTLE_USER_RATE``)."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, WindowRateThrottle):
    """Calls per user to the views of one ``throttle_scope`` (the trigger's ``TRIGGER_REPORT_RATE``)."""
