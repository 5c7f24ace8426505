"""The fixed-window throttles (operations.throttling): exact counts, the window's end, the database's counter."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
import redis
from django.contrib.auth.models import User
from django.db import connection
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from operations.models import ThrottleWindow
from operations.throttling import IDLE_COUNTER_SECONDS, UserRateThrottle, count_call, forget_idle_counters

REDIS_URL = "redis://127.0.0.1:6379/15"
DATABASE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "loopmonitor_cache"}
}


@pytest.fixture
def database_cache(settings: Settings) -> None:
    """The production default: the database cache, so the counters are the database's own rows."""
    settings.CACHES = DATABASE_CACHE


@pytest.mark.django_db
def test_the_database_counter_counts_each_call_and_starts_again_in_a_new_window(database_cache: None) -> None:
    assert [count_call("throttle_user_1", 1060, 60) for _ in range(3)] == [(1, 1060), (2, 1060), (3, 1060)]
    assert count_call("throttle_user_1", 1120, 60) == (1, 1120)
    # A process whose clock lags (an earlier window's end) counts in the later window, not back in its own.
    assert count_call("throttle_user_1", 1060, 60) == (2, 1120)
    assert count_call("throttle_user_2", 1120, 60) == (1, 1120)
    assert ThrottleWindow.objects.get(client_key="throttle_user_1").window_end == 1120


@pytest.mark.django_db
def test_the_cache_counter_counts_each_call_and_starts_again_in_a_new_window() -> None:
    # The suite's default cache is per-process memory: the cache's own incr.
    assert [count_call("throttle_user_1", 1060, 60) for _ in range(3)] == [(1, 1060), (2, 1060), (3, 1060)]
    assert count_call("throttle_user_1", 1120, 60) == (1, 1120)
    assert not ThrottleWindow.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_counter_is_exact_when_calls_race(database_cache: None) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def calls() -> None:
        try:
            start.wait(10)
            for _ in range(25):
                results.append(count_call("throttle_user_9", 2000, 60)[0])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    # Every call got its own number: none was lost to another's write.
    assert sorted(results) == list(range(1, 101))
    assert ThrottleWindow.objects.get(client_key="throttle_user_9").hits == 100


@pytest.mark.django_db
def test_idle_counters_are_forgotten(database_cache: None) -> None:
    now = 10_000_000
    count_call("throttle_anon_10.0.0.1", now - IDLE_COUNTER_SECONDS - 60, 60)
    count_call("throttle_anon_10.0.0.2", now - IDLE_COUNTER_SECONDS + 60, 60)

    assert forget_idle_counters(now) == 1
    assert list(ThrottleWindow.objects.values_list("client_key", flat=True)) == ["throttle_anon_10.0.0.2"]


@pytest.mark.django_db
def test_the_daily_schedule_is_made_by_a_migration() -> None:
    from django_q.models import Schedule

    assert Schedule.objects.get(func="operations.throttling.forget_idle_counters").schedule_type == "D"


@pytest.mark.parametrize("cache", ["memory", "database"])
@pytest.mark.django_db
def test_the_user_rate_holds_for_its_window_then_opens_again(
    cache: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, django_user_model: type[User]
) -> None:
    if cache == "database":
        settings.CACHES = DATABASE_CACHE
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    clock = {"now": 1_800_000_050.0}  # ten seconds before a minute ends
    monkeypatch.setattr(UserRateThrottle, "timer", staticmethod(lambda: clock["now"]))
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("carol", is_staff=True))
    call: Callable[[], int] = lambda: client.get("/reports").status_code  # noqa: E731

    assert [call() for _ in range(4)] == [200, 200, 200, 429]
    refused = client.get("/reports")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert refused["Retry-After"] == "10"  # the window's end, when the count starts again

    clock["now"] += 10
    assert [call() for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_key_longer_than_the_column_is_counted_by_its_digest(database_cache: None) -> None:
    # An anonymous client's key is its X-Forwarded-For, which the client writes: here 300 characters.
    key = "throttle_anon_" + "10.0.0.1," * 32
    assert [count_call(key, 1060, 60)[0] for _ in range(2)] == [1, 2]
    (stored,) = ThrottleWindow.objects.values_list("client_key", flat=True)
    assert stored.startswith("throttle_sha256_") and len(stored) <= 200


def test_the_redis_counter_counts_and_every_key_keeps_its_ttl(settings: Settings) -> None:
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert [count_call("throttle_user_1", 1060, 60) for _ in range(3)] == [(1, 1060), (2, 1060), (3, 1060)]
        assert count_call("throttle_user_1", 1120, 60) == (1, 1120)
        keys = client.keys(f"{prefix}:*")
        assert len(keys) == 2
        assert all(0 < client.ttl(key) <= 120 for key in keys)
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)
