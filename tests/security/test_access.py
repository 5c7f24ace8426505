"""Who sees what: nothing without a token or a session, and report ids nobody can guess.

Every URL of the API, its schema and its docs answers an anonymous client
with 401/403 (or a redirect to the login page) and no data; the admin
sends anyone who is not logged-in staff to its login page. The route
table is checked too, so a new URL cannot slip past these tests unlisted.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from ingestion.kinds import INGEST_KINDS
from reports.models import Report, new_report_id
from stores.models import BusinessHours, Poll, Store
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db

REPORT_ID = "SecretReportId-1234567"
CSV_CONTENT = "store_id,uptime_last_hour\nsecret-store,60.00\n"

API_CALLS = [
    ("post", "/trigger_report"),
    ("post", "/trigger_report/"),
    ("get", "/trigger_report"),
    ("get", f"/get_report?report_id={REPORT_ID}"),
    ("get", f"/get_report/?report_id={REPORT_ID}&format=json"),
    ("get", "/get_report"),
    ("get", f"/reports/{REPORT_ID}/download"),
    ("get", f"/reports/{REPORT_ID}/download/"),
    ("get", "/api/schema/"),
    ("get", "/api/schema/?format=json"),
    ("get", "/api/docs/"),
    ("get", "/stores/some-store/outages"),
    ("get", "/reports"),
    ("get", "/reports/?page=1"),
    ("get", "/stores/some-store/outages/?as_of=2023-01-25T12:00:00Z"),
    ("get", "/ingest/runs"),
    ("get", "/ingest/runs/1"),
    ("get", "/ingest/runs/1/rejects/"),
    *(("post", f"/ingest/{kind}") for kind in INGEST_KINDS),
    ("get", "/subscriptions"),
    ("post", "/subscriptions"),
    ("get", "/subscriptions/SomeSubscription"),
    ("patch", "/subscriptions/SomeSubscription"),
    ("delete", "/subscriptions/SomeSubscription/"),
    ("get", "/subscriptions/SomeSubscription/deliveries"),
    ("post", "/subscriptions/SomeSubscription/rotate_secret"),
    ("post", "/subscriptions/SomeSubscription/send_now/"),
]

# Every route outside the admin, as the resolver lists it; the calls above cover each.
NON_ADMIN_ROUTES = {
    "api/schema/",
    "api/docs/",
    "api-auth/login/",
    "api-auth/logout/",
    "^trigger_report/?$",
    "^get_report/?$",
    "^reports/?$",
    "^reports/(?P<report_id>[A-Za-z0-9_-]{16,43})/download/?$",
    "^stores/(?P<store_id>.+)/outages/?$",
    "^ingest/runs/?$",
    "^ingest/runs/(?P<run_id>[0-9]{1,18})/?$",
    "^ingest/runs/(?P<run_id>[0-9]{1,18})/rejects/?$",
    *(f"^ingest/{kind}/?$" for kind in INGEST_KINDS),
    "^subscriptions/?$",
    "^subscriptions/(?P<subscription_id>[A-Za-z0-9_-]{1,22})/?$",
    "^subscriptions/(?P<subscription_id>[A-Za-z0-9_-]{1,22})/deliveries/?$",
    "^subscriptions/(?P<subscription_id>[A-Za-z0-9_-]{1,22})/rotate_secret/?$",
    "^subscriptions/(?P<subscription_id>[A-Za-z0-9_-]{1,22})/send_now/?$",
    # The owner portal: its access rules are tests/portal/test_access_rules.py's.
    "",
    "login/",
    "logout/",
    "o/<slug:slug>/",
    "o/<slug:slug>/run/",
    "o/<slug:slug>/reports/",
    "o/<slug:slug>/reports/<str:report_id>/",
    "o/<slug:slug>/reports/<str:report_id>/status/",
    "o/<slug:slug>/reports/<str:report_id>/csv/",
    "o/<slug:slug>/reports/<str:report_id>/extended-csv/",
    "o/<slug:slug>/reports/<str:report_id>/stores/<str:store_id>/",
    "o/<slug:slug>/subscriptions/",
    "o/<slug:slug>/subscriptions/<str:subscription_id>/",
    "o/<slug:slug>/subscriptions/<str:subscription_id>/delete/",
    "o/<slug:slug>/subscriptions/<str:subscription_id>/rotate/",
    "o/<slug:slug>/subscriptions/<str:subscription_id>/send/",
}


@pytest.fixture
def complete_report(settings: Settings, tmp_path: Path) -> Report:
    settings.MEDIA_ROOT = tmp_path / "media"
    PollFactory(store__id="secret-store")
    report = Report(id=REPORT_ID, status=Report.Status.COMPLETE, rows=1)
    report.csv_file.save("secret.csv", ContentFile(CSV_CONTENT.encode()), save=True)
    return report


def routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) != "admin/":
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def is_login_redirect(response: object, login_url: str) -> bool:
    return getattr(response, "status_code", None) == 302 and response["Location"].startswith(login_url)  # type: ignore[index]


# Open to anyone on purpose, and answering no more than ok/failed: tests/operations check each.
PROBE_ROUTES = {"^healthz/?$", "^readyz/?$", "^metrics/?$"}
# Open to whoever holds a signed link (a delivered report's CSV, one-click unsubscribe): tests/subscriptions
# and tests/organizations/test_url_access.py's ``Signed`` rows prove an altered or expired link is refused.
SIGNED_ROUTES = {"^downloads/(?P<token>[A-Za-z0-9_:-]{20,200})/?$", "unsubscribe/<str:token>/"}


def test_the_access_tests_know_every_route_outside_the_admin() -> None:
    assert set(routes(get_resolver().url_patterns)) == NON_ADMIN_ROUTES | PROBE_ROUTES | SIGNED_ROUTES


@pytest.mark.parametrize("accept", ["application/json", "text/html", "text/csv", "*/*"])
@pytest.mark.parametrize(("method", "url"), API_CALLS)
def test_an_anonymous_client_gets_a_401_and_no_data_from_every_api_url(
    complete_report: Report, method: str, url: str, accept: str
) -> None:
    response = getattr(APIClient(), method)(url, HTTP_ACCEPT=accept)

    body = response.getvalue()
    # DRF negotiates the content type before it authenticates: an Accept the URL cannot serve is a 406 for anyone.
    assert response.status_code in (401, 403) or (response.status_code == 406 and len(body) < 100), body
    assert b"secret-store" not in body
    assert b"uptime_last_hour" not in body
    assert b"/trigger_report" not in body or url.startswith("/trigger_report")
    assert Report.objects.count() == 1


@pytest.mark.parametrize(("method", "url"), API_CALLS)
def test_a_wrong_token_or_a_stale_session_cookie_gets_nothing(complete_report: Report, method: str, url: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    client.cookies["sessionid"] = "not-a-session"

    response = getattr(client, method)(url)

    assert response.status_code in (401, 403)
    assert b"secret-store" not in response.content


@pytest.mark.parametrize("accept", ["text/csv", "application/json", "*/*", ""])
def test_a_staff_client_does_get_the_fleet_report_whatever_it_accepts(
    complete_report: Report, django_user_model: type[User], accept: str
) -> None:
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user(username="reader", is_staff=True))

    response = client.get(f"/reports/{REPORT_ID}/download", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response.getvalue().decode() == CSV_CONTENT


def test_the_admin_index_sends_an_anonymous_visitor_to_the_login_page() -> None:
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def admin_urls() -> list[str]:
    reverse("admin:index")  # loads the URLconf, which registers the admin's models (admin.autodiscover)
    assert admin.site._registry
    urls = []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls += [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]
    urls += [reverse("admin:stores_businesshours_import"), reverse("admin:stores_store_import")]
    return urls


@pytest.mark.parametrize("who", ["anonymous", "a logged-in user who is not staff"])
def test_every_admin_page_sends_anyone_but_staff_to_the_login_page(
    complete_report: Report, django_user_model: type[User], who: str
) -> None:
    client = Client()
    if who != "anonymous":
        client.force_login(django_user_model.objects.create_user(username="visitor"))

    for url in [*admin_urls(), "/admin/"]:
        response = client.get(url)
        assert is_login_redirect(response, "/admin/login/"), (url, response.status_code)


def test_an_anonymous_import_post_stores_nothing() -> None:
    content = b"store_id,timezone_str\nintruder,Asia/Tokyo\n"

    response = Client().post(
        reverse("admin:stores_store_import"), {"import_file": SimpleUploadedFile("z.csv", content, "text/csv")}
    )

    assert is_login_redirect(response, "/admin/login/")
    assert not Store.objects.filter(id="intruder").exists()
    assert not BusinessHours.objects.exists()
    assert not Poll.objects.filter(store_id="intruder").exists()


class TestReportIds:
    """Knowing one report id must not help find another: 128 random bits each."""

    def test_a_report_id_is_22_url_safe_characters_carrying_16_random_bytes(self) -> None:
        report_id = new_report_id()

        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", report_id)
        assert len(base64.urlsafe_b64decode(report_id + "==")) == 16

    def test_report_ids_do_not_repeat_over_many(self) -> None:
        ids = [new_report_id() for _ in range(50_000)]

        assert len(set(ids)) == len(ids)

    def test_every_bit_of_a_report_id_is_about_as_often_set_as_not(self) -> None:
        # A timestamp, counter or low-entropy source shows up as bits stuck at 0 or 1.
        samples = 4000
        counts = [0] * 128
        for _ in range(samples):
            value = int.from_bytes(base64.urlsafe_b64decode(new_report_id() + "=="), "big")
            for bit in range(128):
                counts[bit] += value >> bit & 1

        assert all(0.4 * samples < count < 0.6 * samples for count in counts)

    def test_a_report_gets_its_id_from_new_report_id(self) -> None:
        assert Report._meta.get_field("id").default is new_report_id

    def test_a_triggered_report_has_such_an_id(self, django_user_model: type[User]) -> None:
        cache.clear()  # the trigger rate limit counts per user id in the cache
        PollFactory()
        client = APIClient()
        client.force_authenticate(django_user_model.objects.create_user(username="trigger", is_staff=True))

        report_id = client.post("/trigger_report").json()["report_id"]

        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", report_id)
