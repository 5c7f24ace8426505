"""Every load leaves an IngestRun, whatever its source: the command, the admin screens (polls too), the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from ingestion.models import IngestRun
from stores.models import BusinessHours, Poll
from tests.reports.conftest import RunQueuedTasks, run_queued_tasks  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

POLLS = "store_id,status,timestamp_utc\n1,active,2023-01-22 12:00:00 UTC\n1,up,2023-01-22 13:00:00 UTC\n"
POLLS_URL = "admin:stores_poll_import"


def test_the_command_records_a_run_per_file_with_its_counts(tmp_path: Path) -> None:
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS)
    hours = tmp_path / "hours.csv"
    hours.write_text("store_id,day,start_time_local,end_time_local\n1,0,09:00:00,17:00:00\n")

    call_command("ingest", "--polls", str(polls), "--hours", str(hours), stdout=io.StringIO(), stderr=io.StringIO())

    hours_run, polls_run = IngestRun.objects.order_by("id")
    assert (hours_run.kind, hours_run.source, hours_run.status, hours_run.stored) == ("hours", "command", "complete", 1)
    assert (polls_run.read, polls_run.stored, polls_run.rejected) == (2, 1, 1)
    assert polls_run.file_name == str(polls)
    assert polls_run.rejects_shown == [{"line": 3, "reason": "unknown status 'up' (expected active or inactive)"}]
    assert polls_run.rejects_file
    assert polls_run.duration is not None


def test_a_bad_file_through_the_command_leaves_a_failed_run(tmp_path: Path) -> None:
    bad = tmp_path / "polls.csv"
    bad.write_text("store_id,when\n")

    with pytest.raises(SystemExit):
        call_command("ingest", "--polls", str(bad), stdout=io.StringIO(), stderr=io.StringIO())

    run = IngestRun.objects.get()
    assert (run.status, run.read) == ("failed", 0)
    assert "missing column" in run.error


def test_the_hours_admin_screen_records_its_run_and_links_to_it(admin_client: Client) -> None:
    content = b"store_id,day,start_time_local,end_time_local\n1,0,09:00:00,17:00:00\n"

    page = admin_client.post(
        reverse("admin:stores_businesshours_import"), {"import_file": SimpleUploadedFile("h.csv", content)}
    )

    run = IngestRun.objects.get()
    assert (run.kind, run.source, run.user.username, run.stored) == ("hours", "admin", "admin", 1)
    assert reverse("admin:ingestion_ingestrun_change", args=[run.pk]) in page.content.decode()
    assert BusinessHours.objects.count() == 1


def test_the_polls_admin_screen_loads_a_small_file_at_once(admin_client: Client) -> None:
    listing = admin_client.get(reverse("admin:stores_poll_changelist")).content.decode()

    page = admin_client.post(reverse(POLLS_URL), {"import_file": SimpleUploadedFile("p.csv", POLLS.encode())})

    assert reverse(POLLS_URL) in listing
    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="count-inserted">1<' in content
    assert "unknown status" in content
    assert Poll.objects.count() == 1
    assert IngestRun.objects.get().source == "admin"


@pytest.mark.django_db(transaction=True)
def test_the_polls_admin_screen_sends_a_large_file_to_a_worker_and_its_run_page_follows_it(
    admin_client: Client,
    settings: Settings,
    tmp_path: Path,
    run_queued_tasks: RunQueuedTasks,  # noqa: F811
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_INLINE_MAX_BYTES = 20

    posted = admin_client.post(reverse(POLLS_URL), {"import_file": SimpleUploadedFile("p.csv", POLLS.encode())})
    run = IngestRun.objects.get()
    running = admin_client.get(posted["Location"]).content.decode()
    run_queued_tasks()
    finished = admin_client.get(posted["Location"]).content.decode()
    rejects = admin_client.get(reverse("admin:ingestion_ingestrun_rejects", args=[run.pk]))

    assert posted.status_code == 302
    assert posted["Location"] == reverse("admin:ingestion_ingestrun_change", args=[run.pk])
    assert 'http-equiv="refresh"' in running
    assert 'http-equiv="refresh"' not in finished
    assert "line 3: unknown status" in finished
    assert Poll.objects.count() == 1
    assert rejects.status_code == 200
    assert b"".join(rejects.streaming_content).decode().splitlines()[1].startswith("p.csv,3,unknown status")


def test_the_runs_admin_lists_runs_and_lets_nobody_add_or_edit_one(admin_client: Client, tmp_path: Path) -> None:
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS)
    call_command("ingest", "--polls", str(polls), stdout=io.StringIO(), stderr=io.StringIO())
    run = IngestRun.objects.get()

    listing = admin_client.get(reverse("admin:ingestion_ingestrun_changelist"))
    detail = admin_client.get(reverse("admin:ingestion_ingestrun_change", args=[run.pk]))

    assert listing.status_code == detail.status_code == 200
    assert "polls.csv" in listing.content.decode()
    assert admin_client.get(reverse("admin:ingestion_ingestrun_add")).status_code == 403
    assert 'id="run-rejects"' in detail.content.decode()
