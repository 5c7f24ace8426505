"""The signed download link of a delivered report: works with no token, refused once altered or expired."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from pytest_django.fixtures import Settings

from reports.download_links import SALT, signed_download_url
from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

CSV = b"store_id,business_hours\nx,1.00\n"


@pytest.fixture
def report(settings: Settings) -> Report:
    settings.SITE_URL = "https://uptime.example"
    stored = Report(status=Report.Status.COMPLETE, rows=1)
    stored.csv_file.save("r.csv", ContentFile(CSV), save=True)
    return stored


def path_of(url: str) -> str:
    assert url.startswith("https://uptime.example/downloads/")
    return url.removeprefix("https://uptime.example")


def test_the_link_downloads_the_csv_without_a_token(report: Report) -> None:
    response = Client().get(path_of(signed_download_url(report.id)))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CSV  # type: ignore[attr-defined]


def test_an_altered_link_is_refused(report: Report) -> None:
    path = path_of(signed_download_url(report.id))
    other = Report.objects.create(status=Report.Status.COMPLETE)
    forged = path.replace(report.id, other.id)

    for attempt in (forged, path[:-3] + "abc", f"/downloads/{report.id}:{'A' * 10}"):
        response = Client().get(attempt)
        assert response.status_code == 403, attempt
        assert response.json() == {"detail": "this download link is not valid (altered or incomplete)"}


def test_a_link_older_than_seven_days_is_refused(report: Report, settings: Settings) -> None:
    eight_days_ago = int(time.time()) - 8 * 86_400
    old = signing.Signer(salt=SALT).sign(f"{report.id}:{signing.b62_encode(eight_days_ago)}")
    assert settings.SIGNED_DOWNLOAD_DAYS == 7

    response = Client().get(f"/downloads/{old}")

    assert response.status_code == 403
    assert response.json() == {"detail": "this download link expired (links last 7 days)"}


def test_a_link_to_a_report_that_is_gone_is_a_404(report: Report) -> None:
    path = path_of(signed_download_url(report.id))
    report.delete()

    assert Client().get(path).status_code == 404
