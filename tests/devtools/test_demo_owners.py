"""``demo_owners`` (run by ``make run``): alpha and beta split the stores, alice and bob own them and can sign in."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token

from organizations.models import Membership
from stores.models import Store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def debug_on(settings: Settings) -> None:
    """A local run, as ``make run`` makes it; pytest-django runs tests with DEBUG off."""
    settings.DEBUG = True


def demo_owners() -> str:
    out = io.StringIO()
    call_command("demo_owners", "--base-url", "http://127.0.0.1:9000", stdout=out)
    return out.getvalue()


def test_the_stores_are_split_in_halves_and_each_owner_can_sign_in_with_the_printed_password_and_token() -> None:
    for number in range(11):
        StoreFactory(id=f"store-{number:02}")

    said = demo_owners()

    by_organization = dict(
        Store.objects.values_list("organization__slug").annotate(n=Count("id")).values_list("organization__slug", "n")
    )
    assert by_organization == {"alpha": 5, "beta": 6}
    assert list(Store.objects.filter(organization__slug="alpha").values_list("id", flat=True)) == [
        f"store-{number:02}" for number in range(5)
    ]
    for slug, username in (("alpha", "alice"), ("beta", "bob")):
        user = User.objects.get(username=username)
        assert Membership.objects.get(user=user).organization.slug == slug
        assert Membership.objects.get(user=user).role == "owner"
        assert user.check_password(f"{username}-password")
        token = Token.objects.get(user=user).key
        assert re.search(rf"{slug} +\d+ stores  user '{username}', password '{username}-password'.*{token}", said)
    assert 'curl -s -X POST -H "Authorization: Token ' in said and "http://127.0.0.1:9000/trigger_report" in said


def test_it_refuses_to_run_with_debug_off(settings: Settings) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG=1"):
        demo_owners()

    assert not User.objects.exists()


def test_running_it_again_changes_nothing_and_keeps_a_password_that_was_changed() -> None:
    StoreFactory(id="a")
    StoreFactory(id="b")
    demo_owners()
    alice = User.objects.get(username="alice")
    alice.set_password("changed by alice")
    alice.save()

    demo_owners()

    assert dict(Store.objects.values_list("id", "organization__slug")) == {"a": "alpha", "b": "beta"}
    assert User.objects.get(username="alice").check_password("changed by alice")
    assert Membership.objects.count() == 2
