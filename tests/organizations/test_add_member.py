"""``manage.py add_member``: creates what is missing, says what it did, and the new user has no usable password."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from organizations.models import Membership, Organization

pytestmark = pytest.mark.django_db


def add_member(*args: str) -> str:
    out = io.StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def test_a_new_organization_and_user_are_created_and_the_user_cannot_log_in_by_password() -> None:
    said = add_member("alpha", "alice", "--role", "owner")

    assert said.splitlines() == [
        "created organization alpha",
        "created user alice (no usable password: set one with `manage.py changepassword alice`, "
        "or make an API token with `manage.py drf_create_token alice`)",
        "added alice to alpha as owner",
    ]
    membership = Membership.objects.get()
    assert (membership.organization.slug, membership.user.username, membership.role) == ("alpha", "alice", "owner")
    assert not User.objects.get(username="alice").has_usable_password()


def test_an_existing_user_joins_a_second_organization_as_viewer_by_default() -> None:
    Organization.objects.create(slug="beta", name="Beta")
    user = User.objects.create_user(username="carol", password="a long enough password")
    add_member("alpha", "carol", "--role", "owner")

    said = add_member("beta", "carol")

    assert said.splitlines() == ["added carol to beta as viewer"]
    assert sorted(Membership.objects.values_list("organization__slug", "role")) == [
        ("alpha", "owner"),
        ("beta", "viewer"),
    ]
    user.refresh_from_db()
    assert user.check_password("a long enough password")


def test_adding_again_changes_the_role_or_says_nothing_changed() -> None:
    add_member("alpha", "vic")

    assert add_member("alpha", "vic", "--role", "owner").splitlines() == ["vic in alpha: role viewer -> owner"]
    assert add_member("alpha", "vic", "--role", "owner").splitlines() == [
        "vic was already owner in alpha; nothing changed"
    ]
    assert Membership.objects.get().role == "owner"


@pytest.mark.parametrize("slug", ["Alpha", "-alpha", "", "a" * 51, "al pha"])
def test_a_bad_slug_is_refused_and_creates_nothing(slug: str) -> None:
    with pytest.raises(CommandError, match="is not an organization slug: 1-50 characters"):
        add_member("--", slug, "alice")

    assert not Organization.objects.exists() and not User.objects.exists()


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        add_member("alpha", "alice", "--role", "admin")
