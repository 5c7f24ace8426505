"""The one scoping rule: staff see everything, members their organizations' rows, anyone else nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from organizations.models import Membership, Organization
from organizations.scoping import may_trigger, organizations_visible_to, role_in
from reports.models import Report
from reports.selectors import reports_visible_to
from stores.models import Store
from stores.selectors import stores_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha() -> Organization:
    return Organization.objects.create(slug="alpha", name="Alpha")


@pytest.fixture
def beta() -> Organization:
    return Organization.objects.create(slug="beta", name="Beta")


def member(name: str, organization: Organization, role: str = Membership.Role.VIEWER) -> User:
    user = User.objects.create_user(username=name)
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def test_a_member_sees_only_the_stores_of_their_organizations(alpha: Organization, beta: Organization) -> None:
    Store.objects.create(id="a1", organization=alpha)
    Store.objects.create(id="b1", organization=beta)
    Store.objects.create(id="loose")

    assert list(stores_visible_to(member("alice", alpha)).values_list("id", flat=True)) == ["a1"]


def test_a_member_of_two_organizations_sees_both_once(alpha: Organization, beta: Organization) -> None:
    Store.objects.create(id="a1", organization=alpha)
    Store.objects.create(id="b1", organization=beta)
    both = member("carol", alpha)
    Membership.objects.create(user=both, organization=beta, role=Membership.Role.OWNER)

    assert list(stores_visible_to(both).values_list("id", flat=True)) == ["a1", "b1"]
    assert list(organizations_visible_to(both).values_list("slug", flat=True)) == ["alpha", "beta"]


def test_staff_see_every_store_and_report_the_fleet_report_included(alpha: Organization) -> None:
    Store.objects.create(id="a1", organization=alpha)
    Store.objects.create(id="loose")
    Report.objects.create()
    Report.objects.create(organization=alpha)
    staff = User.objects.create_user(username="demo", is_staff=True)

    assert stores_visible_to(staff).count() == 2
    assert reports_visible_to(staff).count() == 2


def test_a_fleet_report_and_another_tenants_report_are_invisible_to_a_member(
    alpha: Organization, beta: Organization
) -> None:
    fleet, own, other = Report.objects.create(), Report.objects.create(organization=alpha), Report.objects.create(
        organization=beta
    )

    visible = set(reports_visible_to(member("alice", alpha)).values_list("id", flat=True))

    assert visible == {own.id}
    assert fleet.id not in visible and other.id not in visible


def test_an_anonymous_user_sees_nothing(alpha: Organization) -> None:
    Store.objects.create(id="a1", organization=alpha)

    assert stores_visible_to(AnonymousUser()).count() == 0
    assert organizations_visible_to(AnonymousUser()).count() == 0


def test_owners_and_staff_trigger_viewers_do_not_and_only_staff_trigger_the_fleet(alpha: Organization) -> None:
    owner, viewer = member("alice", alpha, Membership.Role.OWNER), member("vic", alpha)
    staff = User.objects.create_user(username="demo", is_staff=True)

    assert (may_trigger(owner, alpha), may_trigger(viewer, alpha), may_trigger(staff, alpha)) == (True, False, True)
    assert (may_trigger(owner, None), may_trigger(staff, None)) == (False, True)
    assert (role_in(owner, alpha), role_in(viewer, alpha)) == ("owner", "viewer")
