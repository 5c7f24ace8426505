"""The subscriptions API: create (the secret once), read, change, delete, rotate, send now; every rule a 400.

Scoping is proven for every URL by ``tests/organizations/test_url_access.py``;
here: what each call does, and what it refuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from subscriptions.models import Subscription
from tests.subscriptions.conftest import Owners

pytestmark = pytest.mark.django_db


def create(owners: Owners, **body: object) -> dict[str, object]:
    response = owners.client(owners.alice).post("/subscriptions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_create_answers_the_secret_once_and_the_next_send(owners: Owners) -> None:
    body = create(owners, cadence="weekly", send_hour=8, email_to=["ops@alpha.example"])

    assert body["organization"] == "alpha"
    assert body["timezone"] == "UTC" and body["sla_target"] == "99.500"  # the organization's
    secret = str(body["webhook_secret"])
    assert secret.startswith("whsec_") and len(secret) >= len("whsec_") + 32
    next_run = datetime.fromisoformat(str(body["next_run_at"]))
    assert next_run > timezone.now() and next_run.weekday() == 0 and next_run.hour == 8
    shown = owners.client(owners.alice).get(f"/subscriptions/{body['id']}").json()
    assert "webhook_secret" not in shown and secret not in str(shown)
    listed = owners.client(owners.vic).get("/subscriptions").json()
    assert [each["id"] for each in listed["results"]] == [body["id"]]


def test_a_member_of_one_organization_need_not_name_it_and_beta_sees_none_of_alphas(owners: Owners) -> None:
    create(owners, cadence="daily", send_hour=6, webhook_url="https://93.184.215.14/loop")
    assert owners.client(owners.bob).get("/subscriptions").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"cadence": "hourly", "send_hour": 8, "email_to": ["a@b.example"]}, "cadence", "not a valid choice"),
        ({"cadence": "daily", "send_hour": 24, "email_to": ["a@b.example"]}, "send_hour", "less than or equal to 23"),
        ({"cadence": "daily", "send_hour": 8}, "non_field_errors", "email_to"),
        ({"cadence": "daily", "send_hour": 8, "email_to": ["not-an-address"]}, "email_to", "not an email address"),
        ({"cadence": "daily", "send_hour": 8, "email_to": "a@b.example"}, "email_to", "list"),
        (
            {"cadence": "daily", "send_hour": 8, "email_to": ["a@b.example"], "timezone": "Mars/Base"},
            "timezone",
            "unknown",
        ),
        ({"cadence": "daily", "send_hour": 8, "webhook_url": "http://hooks.example.com/x"}, "webhook_url", "https://"),
        ({"cadence": "daily", "send_hour": 8, "webhook_url": "https://127.0.0.1/x"}, "webhook_url", "non-public"),
        ({"cadence": "daily", "send_hour": 8, "webhook_url": "https://10.1.2.3/x"}, "webhook_url", "non-public"),
        ({"cadence": "daily", "send_hour": 8, "webhook_url": "https://localhost/x"}, "webhook_url", "non-public"),
        ({"cadence": "daily", "send_hour": 8, "webhook_url": "https://[::1]:8443/x"}, "webhook_url", "non-public"),
        ({"cadence": "daily", "send_hour": 8, "email_to": ["a@b.example"], "sla_target": 101}, "sla_target", "100"),
    ],
)
def test_a_broken_rule_is_a_400_naming_the_field_and_stores_nothing(
    owners: Owners, settings: Settings, body: dict[str, object], field: str, words: str
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = owners.client(owners.alice).post("/subscriptions", body, format="json")

    assert response.status_code == 400, response.content
    assert words in str(response.json()["errors"][field]), response.json()
    assert not Subscription.objects.exists()


def test_a_malformed_body_is_a_400_in_json(owners: Owners) -> None:
    response = owners.client(owners.alice).post("/subscriptions", "{not json", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


def test_a_viewer_reads_but_may_not_create_change_rotate_send_or_delete(owners: Owners) -> None:
    body = create(owners, cadence="daily", send_hour=8, email_to=["ops@alpha.example"])
    viewer = owners.client(owners.vic)
    path = f"/subscriptions/{body['id']}"

    assert (
        viewer.post(
            "/subscriptions", {"cadence": "daily", "send_hour": 1, "email_to": ["x@y.example"]}, format="json"
        ).status_code
        == 403
    )
    assert viewer.patch(path, {"send_hour": 9}, format="json").status_code == 403
    assert viewer.post(f"{path}/rotate_secret").status_code == 403
    assert viewer.post(f"{path}/send_now").status_code == 403
    assert viewer.delete(path).status_code == 403
    assert viewer.get(path).status_code == 200 and viewer.get(f"{path}/deliveries").status_code == 200
    assert Subscription.objects.get().send_hour == 8


def test_patch_moves_the_next_send_and_keeps_what_it_does_not_name(owners: Owners) -> None:
    body = create(owners, cadence="daily", send_hour=8, email_to=["ops@alpha.example"])
    response = owners.client(owners.alice).patch(
        f"/subscriptions/{body['id']}", {"cadence": "monthly", "timezone": "Asia/Tokyo"}, format="json"
    )

    assert response.status_code == 200, response.content
    changed = Subscription.objects.get()
    assert (changed.cadence, changed.timezone, changed.email_to) == ("monthly", "Asia/Tokyo", ["ops@alpha.example"])
    local = changed.next_run_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.day, local.hour) == (1, 8)


def test_patch_may_not_remove_the_last_channel_nor_move_the_subscription(owners: Owners) -> None:
    body = create(owners, cadence="daily", send_hour=8, email_to=["ops@alpha.example"])
    client = owners.client(owners.alice)

    assert client.patch(f"/subscriptions/{body['id']}", {"email_to": []}, format="json").status_code == 400
    assert client.patch(f"/subscriptions/{body['id']}", {"organization": "beta"}, format="json").status_code == 400
    assert Subscription.objects.get().email_to == ["ops@alpha.example"]


def test_rotate_gives_a_new_secret_and_keeps_the_old_one_for_24_hours(owners: Owners) -> None:
    body = create(owners, cadence="daily", send_hour=8, webhook_url="https://93.184.215.14/loop")
    rotated = owners.client(owners.alice).post(f"/subscriptions/{body['id']}/rotate_secret")

    assert rotated.status_code == 200
    new = rotated.json()["webhook_secret"]
    assert new.startswith("whsec_") and new != body["webhook_secret"]
    subscription = Subscription.objects.get()
    assert subscription.previous_webhook_secret == body["webhook_secret"]
    expires = subscription.previous_secret_expires_at
    assert expires is not None and abs(expires - timezone.now() - timedelta(hours=24)) < timedelta(minutes=1)


def test_delete_unsubscribes(owners: Owners) -> None:
    body = create(owners, cadence="daily", send_hour=8, email_to=["ops@alpha.example"], sla_target="99.9")
    assert Subscription.objects.get().sla_target == Decimal("99.9")

    assert owners.client(owners.alice).delete(f"/subscriptions/{body['id']}").status_code == 204
    assert owners.client(owners.alice).get(f"/subscriptions/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/rotate_secret"),
        ("post", "/send_now"),
        ("get", "/deliveries"),
    ],
)
def test_another_organizations_subscription_answers_like_a_missing_one(
    owners: Owners, method: str, suffix: str
) -> None:
    body = create(owners, cadence="daily", send_hour=8, email_to=["ops@alpha.example"])
    bob = owners.client(owners.bob)

    theirs = getattr(bob, method)(f"/subscriptions/{body['id']}{suffix}", {"send_hour": 9}, format="json")
    missing = getattr(bob, method)(f"/subscriptions/NoSuchOne{suffix}", {"send_hour": 9}, format="json")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert Subscription.objects.get().send_hour == 8
