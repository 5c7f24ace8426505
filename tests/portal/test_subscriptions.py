"""Scheduled delivery in the portal: owners subscribe, change, rotate, send now and delete; viewers read; others 404.

The same services as the API; the secret is on the page that answers the
create or the rotation, and on no other.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions.models import Delivery, Subscription
from subscriptions.services import subscription_create
from tests.subscriptions.conftest import Owners, SmtpServer, owners, q_sync, smtp_server  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=["default", "reader"]), pytest.mark.usefixtures("q_sync")]

FORM = {
    "cadence": "weekly",
    "send_hour": "8",
    "timezone": "Europe/Berlin",
    "sla_target": "99.9",
    "email_to": "ops@alpha.example, boss@alpha.example",
    "webhook_url": "",
}


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_an_owner_subscribes_and_sees_the_secret_only_on_that_answer(owners: Owners) -> None:  # noqa: F811
    alice = logged_in(owners.alice)
    page = alice.get(reverse("portal:subscriptions", args=["alpha"]))
    assert (
        page.status_code == 200 and b'id="no-subscription"' in page.content and b'id="new-subscription"' in page.content
    )

    created = alice.post(reverse("portal:subscriptions", args=["alpha"]), FORM)

    assert created.status_code == 200
    subscription = Subscription.objects.get()
    assert (subscription.cadence, subscription.timezone) == ("weekly", "Europe/Berlin")
    assert subscription.email_to == ["ops@alpha.example", "boss@alpha.example"]
    assert f'<code id="webhook-secret">{subscription.webhook_secret}</code>'.encode() in created.content
    again = alice.get(reverse("portal:subscription", args=["alpha", subscription.id]))
    assert subscription.webhook_secret.encode() not in again.content
    assert b'id="next-run-at"' in again.content
    listed = alice.get(reverse("portal:subscriptions", args=["alpha"]))
    assert f'data-subscription-id="{subscription.id}"'.encode() in listed.content


def test_a_broken_rule_is_shown_on_its_field_and_nothing_is_stored(owners: Owners) -> None:  # noqa: F811
    response = logged_in(owners.alice).post(
        reverse("portal:subscriptions", args=["alpha"]), FORM | {"email_to": "nope", "timezone": "Mars/Base"}
    )

    assert response.status_code == 400
    assert re.search(rb'id="error-email_to"[^>]*>[^<]*not an email address', response.content)
    assert re.search(rb'id="error-timezone"[^>]*>[^<]*unknown timezone', response.content)
    assert not Subscription.objects.exists()


def test_a_viewer_reads_but_gets_no_form_and_403_on_every_write(owners: Owners) -> None:  # noqa: F811
    subscription = subscription_create(
        organization=owners.alpha, cadence="daily", send_hour=6, email_to=["ops@alpha.example"]
    ).subscription
    vic = logged_in(owners.vic)

    page = vic.get(reverse("portal:subscription", args=["alpha", subscription.id]))
    assert (
        page.status_code == 200
        and b'id="edit-subscription"' not in page.content
        and b'id="send-now"' not in page.content
    )
    assert b'id="new-subscription"' not in vic.get(reverse("portal:subscriptions", args=["alpha"])).content
    assert vic.post(reverse("portal:subscriptions", args=["alpha"]), FORM).status_code == 403
    for name in ("subscription", "subscription_rotate", "subscription_send", "subscription_delete"):
        assert vic.post(reverse(f"portal:{name}", args=["alpha", subscription.id]), FORM).status_code == 403, name
    assert Subscription.objects.get().send_hour == 6


def test_another_organizations_owner_gets_404_on_every_page_and_action(owners: Owners) -> None:  # noqa: F811
    subscription = subscription_create(
        organization=owners.alpha, cadence="daily", send_hour=6, email_to=["ops@alpha.example"]
    ).subscription
    bob = logged_in(owners.bob)

    assert bob.get(reverse("portal:subscription", args=["alpha", subscription.id])).status_code == 404
    assert bob.get(reverse("portal:subscription", args=["beta", subscription.id])).status_code == 404
    for name in ("subscription_rotate", "subscription_send", "subscription_delete"):
        assert bob.post(reverse(f"portal:{name}", args=["beta", subscription.id])).status_code == 404, name
    assert Subscription.objects.filter(id=subscription.id).exists() and not Delivery.objects.exists()


def test_send_now_rotate_edit_and_delete(owners: Owners, smtp_server: SmtpServer) -> None:  # noqa: F811
    created = subscription_create(
        organization=owners.alpha, cadence="daily", send_hour=6, email_to=["ops@alpha.example"]
    )
    subscription = created.subscription
    alice = logged_in(owners.alice)
    detail = reverse("portal:subscription", args=["alpha", subscription.id])

    sent = alice.post(reverse("portal:subscription_send", args=["alpha", subscription.id]), follow=True)
    assert sent.redirect_chain == [(detail, 302)]
    assert smtp_server.recipients() == ["ops@alpha.example"]
    assert b'data-status="delivered"' in sent.content and b"250 2.0.0 Ok: queued as TEST42" in sent.content

    rotated = alice.post(reverse("portal:subscription_rotate", args=["alpha", subscription.id]))
    subscription.refresh_from_db()
    assert subscription.webhook_secret != created.webhook_secret
    assert subscription.webhook_secret.encode() in rotated.content

    edited = alice.post(detail, FORM | {"cadence": "monthly", "email_to": "new@alpha.example"})
    assert edited.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.cadence, subscription.email_to) == ("monthly", ["new@alpha.example"])

    deleted = alice.post(reverse("portal:subscription_delete", args=["alpha", subscription.id]))
    assert deleted.status_code == 302 and not Subscription.objects.exists()
