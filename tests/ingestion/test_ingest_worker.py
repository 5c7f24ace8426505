"""A large upload is stored and loaded by a django-q2 worker, through django-q2's own worker and monitor code."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django_q.models import Failure, Success
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from ingestion.accounts import feed_account_ensure
from ingestion.models import IngestRun
from stores.models import Poll
from tests.reports.conftest import RunQueuedTasks, run_queued_tasks  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "store_id,status,timestamp_utc\n"


def polls_file(count: int) -> str:
    # Unique instants (one per second from midnight), so every row is a new poll.
    start = datetime(2023, 1, 22)
    rows = (
        f"store-{n % 50},{'inactive' if n % 3 == 0 else 'active'},{start + timedelta(seconds=n):%Y-%m-%d %H:%M:%S}\n"
        for n in range(count)
    )
    return HEADER + "".join(rows) + "store-1,up,2023-01-22 00:00:00\n"


@pytest.fixture
def feed() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {feed_account_ensure(username='feed-bot')}")
    return client


def test_a_large_upload_answers_202_and_a_worker_loads_it_and_the_run_shows_the_result(
    feed: APIClient,
    settings: Settings,
    tmp_path: Path,
    run_queued_tasks: RunQueuedTasks,  # noqa: F811
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_INLINE_MAX_BYTES = 1024
    body = polls_file(5000)

    accepted = feed.generic("POST", "/ingest/polls", body.encode(), content_type="text/csv")
    before = feed.get(accepted["Location"]).json()
    ran = run_queued_tasks()
    after = feed.get(accepted["Location"]).json()

    assert accepted.status_code == 202
    assert (before["status"], before["progress"], before["stored"]) == ("running", 0.0, 0)
    assert ran == 1
    assert Success.objects.filter(func="ingestion.tasks.run_ingest").count() == 1
    assert not Failure.objects.exists()
    assert (after["status"], after["progress"], after["read"], after["stored"], after["rejected"]) == (
        "complete",
        1.0,
        5001,
        5000,
        1,
    )
    assert after["rejects"] == [{"line": 5002, "reason": "unknown status 'up' (expected active or inactive)"}]
    assert Poll.objects.count() == 5000
    run = IngestRun.objects.get()
    assert run.bytes_done == run.bytes_total == len(body)
    assert not run.upload  # deleted once loaded
    assert not list((tmp_path / "media" / "ingest-uploads").iterdir())


def test_a_large_multipart_upload_goes_to_the_worker_too(
    feed: APIClient,
    settings: Settings,
    tmp_path: Path,
    run_queued_tasks: RunQueuedTasks,  # noqa: F811
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_INLINE_MAX_BYTES = 1024
    import io

    upload = io.BytesIO(polls_file(3000).encode())
    upload.name = "polls-2023-01-22.csv"

    accepted = feed.post("/ingest/polls", {"file": upload}, format="multipart")
    run_queued_tasks()

    assert accepted.status_code == 202
    run = IngestRun.objects.get()
    assert (run.status, run.file_name, run.stored) == ("complete", "polls-2023-01-22.csv", 3000)


def test_a_worker_run_whose_file_breaks_halfway_is_failed_and_stores_nothing(
    feed: APIClient,
    settings: Settings,
    tmp_path: Path,
    run_queued_tasks: RunQueuedTasks,  # noqa: F811
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_INLINE_MAX_BYTES = 1024
    body = polls_file(3000).encode() + b"store-9,active,\xff\n"

    accepted = feed.generic("POST", "/ingest/polls", body, content_type="text/csv")
    run_queued_tasks()

    assert accepted.status_code == 202
    run = IngestRun.objects.get()
    assert run.status == "failed"
    assert "not a UTF-8 text file" in run.error
    assert Poll.objects.count() == 0
