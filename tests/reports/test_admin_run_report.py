"""The admin report list's "Run a report" button: a CSRF-protected POST that triggers the API's service."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

LIST = "/admin/reports/report/"


@pytest.fixture
def admin_user(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser(username="admin", password="x")


def logged_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def test_the_button_runs_a_report_of_the_latest_data_as_the_user_and_opens_its_page(
    admin_user: User, week_of_polls: datetime, q_sync: None
) -> None:
    client = logged_in(admin_user)
    page = client.get(LIST).content.decode()
    assert f'<form method="post" action="{reverse("admin:reports_report_run")}"' in page
    assert "Run a report</button>" in page

    response = client.post(reverse("admin:reports_report_run"), {"csrfmiddlewaretoken": csrf_token(page)})

    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_report_change", args=[quote(report.id)])
    assert report.requested_by == admin_user
    assert report.as_of == week_of_polls
    assert report.status == Report.Status.COMPLETE
    followed = client.get(response["Location"]).content.decode()
    assert f"Report {report.id} is running" in followed


def test_the_button_needs_the_csrf_token_and_a_post(admin_user: User, week_of_polls: datetime) -> None:
    client = logged_in(admin_user)

    assert client.post(reverse("admin:reports_report_run")).status_code == 403
    assert client.get(reverse("admin:reports_report_run")).status_code == 405
    assert Report.objects.count() == 0


def test_without_polls_the_button_says_so_and_starts_nothing(admin_user: User) -> None:
    client = logged_in(admin_user)
    page = client.get(LIST).content.decode()

    response = client.post(reverse("admin:reports_report_run"), {"csrfmiddlewaretoken": csrf_token(page)}, follow=True)

    assert response.redirect_chain[-1][0] == LIST
    assert "No report was started: there are no polls in the database yet" in response.content.decode()
    assert Report.objects.count() == 0


def test_staff_without_the_view_permission_cannot_run_one(
    django_user_model: type[User], week_of_polls: datetime
) -> None:
    clerk = django_user_model.objects.create_user(username="clerk", password="x", is_staff=True)
    client = Client()
    client.force_login(clerk)

    assert client.post(reverse("admin:reports_report_run")).status_code == 403
    assert Report.objects.count() == 0
