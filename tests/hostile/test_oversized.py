"""Oversized and over-deep request bodies are refused with a clear 4xx, never read whole or answered with a 500.

The API takes a few bytes (an optional ``as_of``); anything above
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a JSON 413 whatever its content type,
uploaded file parts included (Django's own limit does not count those).
The admin import screens refuse a file above ``IMPORT_MAX_UPLOAD_BYTES``
with a message on the page and store nothing. Most tests shrink the limits
so that they stay fast; one sends a body over the configured limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as configured
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reports.models import Report
from stores.models import BusinessHours, Store
from tests.factories import PollFactory

pytestmark = pytest.mark.django_db

LIMIT = 4096
AS_OF = "2023-01-24T10:30:00Z"
TOO_LARGE = {"detail": "the request body is larger than 4.0 KB, the most this API accepts"}


@pytest.fixture
def api_client(django_user_model: type[User], settings: Settings, tmp_path: Path) -> Iterator[APIClient]:
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the trigger rate limit counts per user id in the cache
    PollFactory()
    client = APIClient()
    user = django_user_model.objects.create_user(username="bulky", is_staff=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    yield client
    cache.clear()


@pytest.fixture
def small_limit(settings: Settings) -> int:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return LIMIT


def test_a_form_body_over_the_configured_limit_is_a_json_413(api_client: APIClient) -> None:
    padding = "x" * (configured.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = api_client.post("/trigger_report", {"as_of": AS_OF, "padding": padding})

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("the request body is larger than ")
    assert Report.objects.count() == 0


@pytest.mark.usefixtures("small_limit")
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", f"as_of={AS_OF}&padding={'x' * LIMIT}"),
        ("application/json", json.dumps({"as_of": AS_OF, "padding": "x" * LIMIT})),
        ("text/plain", "x" * (LIMIT + 1)),
    ],
    ids=["form", "json", "plain"],
)
def test_an_oversized_body_of_any_type_is_a_json_413_and_starts_nothing(
    api_client: APIClient, content_type: str, body: str
) -> None:
    response = api_client.post("/trigger_report", body, content_type=content_type)

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert Report.objects.count() == 0


@pytest.mark.usefixtures("small_limit")
def test_an_uploaded_file_counts_toward_the_limit(api_client: APIClient) -> None:
    upload = SimpleUploadedFile("padding.bin", b"x" * (LIMIT + 1))

    response = api_client.post("/trigger_report", {"as_of": AS_OF, "padding": upload}, format="multipart")

    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert Report.objects.count() == 0


@pytest.mark.usefixtures("small_limit")
def test_a_body_at_the_limit_is_read(api_client: APIClient) -> None:
    body = json.dumps({"as_of": AS_OF, "padding": ""})
    body = json.dumps({"as_of": AS_OF, "padding": "x" * (LIMIT - len(body))})
    assert len(body) == LIMIT

    response = api_client.post("/trigger_report", body, content_type="application/json")

    assert response.status_code == 202
    assert Report.objects.count() == 1


def test_too_many_form_fields_is_a_json_400(api_client: APIClient) -> None:
    fields = {f"field{index}": "x" for index in range(configured.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = api_client.post("/trigger_report", fields)

    assert response.status_code == 400
    assert response.json() == {"detail": f"the request has more than {configured.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields"}


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_json_nested_too_deeply_is_a_400_not_a_500(api_client: APIClient, depth: int) -> None:
    response = api_client.post("/trigger_report", "[" * depth + "]" * depth, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is nested too deeply"}
    assert Report.objects.count() == 0


def test_a_huge_report_id_is_a_400(api_client: APIClient) -> None:
    response = api_client.get("/get_report", {"report_id": "A" * 1_000_000})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("report_id: ")


# -- admin import screens ---------------------------------------------------

HOURS_URL = "admin:stores_businesshours_import"
ZONES_URL = "admin:stores_store_import"


@pytest.mark.parametrize(
    ("url_name", "content"),
    [
        (HOURS_URL, b"store_id,day,start_time_local,end_time_local\n" + b"s1,0,09:00:00,17:00:00\n" * 100),
        (ZONES_URL, b"store_id,timezone_str\n" + b"s1,Asia/Tokyo\n" * 200),
    ],
    ids=["hours", "timezones"],
)
def test_the_admin_import_refuses_a_file_over_its_limit_with_a_message_and_stores_nothing(
    admin_client: Client, settings: Settings, url_name: str, content: bytes
) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    assert len(content) > 1024

    response = admin_client.post(reverse(url_name), {"import_file": SimpleUploadedFile("big.csv", content, "text/csv")})

    assert response.status_code == 200
    page = response.content.decode()
    assert "big.csv is " in page
    assert "this screen takes files up to 1.0" in page
    assert "Nothing was stored" in page
    assert not Store.objects.exists()
    assert not BusinessHours.objects.exists()


def test_the_admin_import_limit_is_finite_by_default() -> None:
    assert 0 < configured.IMPORT_MAX_UPLOAD_BYTES <= 100 * 1024 * 1024
