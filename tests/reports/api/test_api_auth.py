"""Who may use the report API (token or session; anyone else gets a 401), and its schema and docs pages."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

REPORT_ID = "A" * 22


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/trigger_report"), ("get", f"/get_report?report_id={REPORT_ID}"), ("get", "/get_report")],
)
def test_an_anonymous_call_is_a_401_asking_for_a_token(
    anonymous_client: APIClient, week_of_polls: datetime, method: str, path: str
) -> None:
    response = getattr(anonymous_client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (f"Token {'0' * 40}", "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token two parts", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_a_bad_token_is_a_401(
    anonymous_client: APIClient, week_of_polls: datetime, authorization: str, detail: str
) -> None:
    anonymous_client.credentials(HTTP_AUTHORIZATION=authorization)

    trigger = anonymous_client.post("/trigger_report")
    poll = anonymous_client.get("/get_report", {"report_id": REPORT_ID})

    assert (trigger.status_code, poll.status_code) == (401, 401)
    assert trigger.json() == {"detail": detail}
    assert Report.objects.count() == 0


def test_the_token_of_an_inactive_user_is_a_401(anonymous_client: APIClient, user: User) -> None:
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = anonymous_client.get("/get_report", {"report_id": REPORT_ID})

    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_a_valid_token_is_accepted_on_both_endpoints(api_client: APIClient, week_of_polls: datetime) -> None:
    trigger = api_client.post("/trigger_report")
    poll = api_client.get("/get_report", {"report_id": trigger.json()["report_id"]})

    assert (trigger.status_code, poll.status_code) == (202, 200)


def test_a_logged_in_session_is_accepted_on_both_endpoints(user: User, week_of_polls: datetime) -> None:
    client = APIClient()
    client.force_login(user)

    trigger = client.post("/trigger_report")
    poll = client.get("/get_report", {"report_id": trigger.json()["report_id"]})

    assert (trigger.status_code, poll.status_code) == (202, 200)


def test_a_session_post_needs_the_csrf_token_of_the_browsable_api_form(user: User, week_of_polls: datetime) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    without_token = client.post("/trigger_report")
    form_page = client.get("/trigger_report/", HTTP_ACCEPT="text/html")
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page.content.decode())
    assert form_token is not None
    with_token = client.post("/trigger_report/", {"csrfmiddlewaretoken": form_token.group(1)})

    assert without_token.status_code == 403
    assert without_token.json()["detail"].startswith("CSRF Failed")
    assert with_token.status_code == 202
    assert Report.objects.count() == 1


def test_logging_in_through_the_browsable_api_opens_a_session(
    django_user_model: type[User], week_of_polls: datetime
) -> None:
    django_user_model.objects.create_user(username="carol", password="a long enough password", is_staff=True)
    client = Client()

    login = client.post("/api-auth/login/", {"username": "carol", "password": "a long enough password", "next": "/"})
    response = client.post("/trigger_report")

    assert login.status_code == 302
    assert response.status_code == 202


class TestSchemaAndDocs:
    def test_the_openapi_schema_describes_both_endpoints_for_an_authenticated_user(self, api_client: APIClient) -> None:
        response = api_client.get("/api/schema/", {"format": "json"})

        assert response.status_code == 200
        schema = json.loads(response.content)
        assert schema["info"]["title"] == "Loop store uptime monitor"
        assert {"/trigger_report/", "/get_report/"} <= set(schema["paths"])
        assert "post" in schema["paths"]["/trigger_report/"]
        assert "202" in schema["paths"]["/trigger_report/"]["post"]["responses"]
        get_report = schema["paths"]["/get_report/"]["get"]
        assert {"application/json", "text/csv"} <= set(get_report["responses"]["200"]["content"])
        assert {"report_id", "format"} <= {parameter["name"] for parameter in get_report["parameters"]}
        assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])

    def test_the_schema_is_served_as_yaml_by_default(self, api_client: APIClient) -> None:
        response = api_client.get("/api/schema/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.oai.openapi")
        assert b"/trigger_report/:" in response.content

    def test_the_swagger_ui_loads_only_bundled_static_files(self, api_client: APIClient) -> None:
        response = api_client.get("/api/docs/")

        assert response.status_code == 200
        page = response.content.decode()
        referenced = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert referenced
        for url in referenced:
            assert url.startswith("/static/drf_spectacular_sidecar/"), url
            assert finders.find(url.removeprefix("/static/")) is not None, url
        assert not re.search(r"https?://", page)
        assert 'url: "/api/schema/"' in page
