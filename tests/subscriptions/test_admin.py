"""Staff's admin pages for scheduled delivery: the lists, a subscription with its runs, and one made there."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from subscriptions.models import Delivery, Subscription, SubscriptionRun
from subscriptions.services import subscription_create
from tests.subscriptions.conftest import Owners

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_user(username="staff", is_staff=True, is_superuser=True))
    return client


def test_the_delivery_log_and_a_subscription_with_its_runs(staff: Client, owners: Owners) -> None:
    subscription = subscription_create(
        organization=owners.alpha, cadence="daily", send_hour=8, email_to=["ops@alpha.example"]
    ).subscription
    now = timezone.now()
    run = SubscriptionRun.objects.create(subscription=subscription, trigger="send_now", due_at=now, start=now, end=now)
    Delivery.objects.create(
        run=run, subscription=subscription, channel="email", target="ops@alpha.example", message_id="msg_x"
    )

    for path in (
        "/admin/subscriptions/subscription/",
        f"/admin/subscriptions/subscription/{subscription.id}/change/",
        "/admin/subscriptions/subscriptionrun/",
        "/admin/subscriptions/delivery/",
    ):
        response = staff.get(path)
        assert response.status_code == 200, path
    assert b"ops@alpha.example" in staff.get("/admin/subscriptions/delivery/").content
    assert subscription.webhook_secret.encode() not in staff.get(
        f"/admin/subscriptions/subscription/{subscription.id}/change/"
    ).content


def test_staff_make_a_subscription_in_the_admin_and_see_its_secret_once(staff: Client, owners: Owners) -> None:
    response = staff.post(
        "/admin/subscriptions/subscription/add/",
        {
            "organization": owners.beta.pk,
            "cadence": "monthly",
            "send_hour": "9",
            "timezone": "Asia/Tokyo",
            "sla_target": "99.0",
            "email_to": '["ops@beta.example"]',
            "webhook_url": "",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        },
        follow=True,
    )

    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.next_run_at > timezone.now() and subscription.webhook_secret.startswith("whsec_")
    assert subscription.webhook_secret.encode() in response.content
