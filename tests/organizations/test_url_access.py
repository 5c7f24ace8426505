"""Every URL pattern proves its access rules; a URL with no row in :data:`ACCESS` fails the suite.

The patterns come from the URL conf itself (``get_resolver().url_patterns``,
walked recursively), so a new view is caught the moment it is routed. Each
row says what kind of URL it is and how to reach one of ``alpha``'s objects
through it; the tests then check, per kind:

* **tenant API** (``Api``): anonymous 401; another tenant (``beta``'s owner)
  404 — or, for a list, none of alpha's objects in it; alpha's owner and
  viewer allowed; on a write the viewer gets 403.
* **tenant page** (``Page``): the same, but anonymous is sent to the login page.
* **authenticated** (schema, docs): anonymous 401, any logged-in user allowed; no tenant data.
* **public** (the API login and logout pages): anyone.
* **feed** (the ingestion API): anonymous 401; members, owners included, 403; a
  feed account and staff get past the permission check.
* **staff** (the whole ``admin`` namespace): anyone but staff is sent to the admin login.

Adding a URL is adding one row, e.g.
``"portal:report": Page(lambda w: f"/reports/{w.alpha_report.id}/")``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from ingestion.accounts import feed_account_ensure
from reports.download_links import signed_download_url
from reports.models import Report
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from subscriptions.unsubscribe import unsubscribe_url
from tests.organizations.conftest import Tenants

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


@dataclass
class World:
    """alpha's objects, the ones every row reaches for; beta's owner must not reach them."""

    tenants: Tenants
    alpha_report: Report
    beta_report: Report
    alpha_subscription: Subscription
    beta_subscription: Subscription
    alpha_store: str = "always-up"

    def alpha_ids_in(self, response: Any) -> bool:
        content = response.content.decode()
        return self.alpha_report.id in content or self.alpha_subscription.id in content


Path = Callable[[World], str]


@dataclass(frozen=True)
class Api:
    """A tenant-scoped API URL; ``body`` is sent on a write (it names alpha where a slug is needed)."""

    path: Path
    method: str = "get"
    write: bool = False
    listing: str = ""
    """A list of ``report`` or ``subscription`` objects: another tenant gets 200 with theirs, none of alpha's."""
    body: dict[str, str] = field(default_factory=dict)
    anonymous: str = "401"


@dataclass(frozen=True)
class Page(Api):
    """A tenant-scoped page: anonymous is sent to the login page."""

    anonymous: str = "login"


@dataclass(frozen=True)
class Authenticated:
    path: Path


@dataclass(frozen=True)
class Public:
    path: Path
    method: str = "get"
    status: int = 200
    """What anyone gets: the logout answers with a redirect to the login page (``LOGOUT_REDIRECT_URL``)."""


@dataclass(frozen=True)
class Feed:
    """An ingestion URL: only accounts with the ingestion permission (the ``feed`` group) and staff."""

    path: Path
    method: str = "get"


@dataclass(frozen=True)
class Probe:
    """An operator's probe: no login, no tenant data; readiness may answer 503, metrics only to loopback or a token."""

    path: Path
    statuses: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class Signed:
    """A capability URL: its signed token is the permission, for anyone; an altered token is refused."""

    valid: Path
    forged: Path
    method: str = "get"
    forged_status: int = 403


Rule = Api | Authenticated | Public | Feed | Probe | Signed

ACCESS: dict[str, Rule] = {
    "trigger_report": Api(lambda w: "/trigger_report", method="post", write=True, body={"organization": "alpha"}),
    "get_report": Api(lambda w: f"/get_report?report_id={w.alpha_report.id}&format=json"),
    "download_report": Api(lambda w: f"/reports/{w.alpha_report.id}/download"),
    "report_list": Api(lambda w: "/reports", listing="report"),
    "subscription-list": Api(lambda w: "/subscriptions", listing="subscription"),
    "subscription-detail": Api(lambda w: f"/subscriptions/{w.alpha_subscription.id}"),
    "subscription-deliveries": Api(lambda w: f"/subscriptions/{w.alpha_subscription.id}/deliveries"),
    "subscription-rotate-secret": Api(
        lambda w: f"/subscriptions/{w.alpha_subscription.id}/rotate_secret", method="post", write=True
    ),
    "subscription-send-now": Api(
        lambda w: f"/subscriptions/{w.alpha_subscription.id}/send_now", method="post", write=True
    ),
    "signed_download": Signed(
        lambda w: signed_download_url(w.alpha_report.id).removeprefix(settings.SITE_URL),
        lambda w: f"/downloads/{w.alpha_report.id}:1xYZ12:{'A' * 43}",
    ),
    "unsubscribe": Signed(
        lambda w: unsubscribe_url(w.alpha_subscription.id, "ops@alpha.example").removeprefix(settings.SITE_URL),
        lambda w: f"/unsubscribe/{w.alpha_subscription.id}:forged/",
        method="post",
        forged_status=404,
    ),
    "store_outages": Api(lambda w: f"/stores/{w.alpha_store}/outages"),
    "schema": Authenticated(lambda w: "/api/schema/"),
    "swagger-ui": Authenticated(lambda w: "/api/docs/"),
    "rest_framework:login": Public(lambda w: "/api-auth/login/"),
    "rest_framework:logout": Public(lambda w: "/api-auth/logout/", method="post", status=302),
    "healthz": Probe(lambda w: "/healthz"),
    "readyz": Probe(lambda w: "/readyz", statuses=(200, 503)),
    "metrics": Probe(lambda w: "/metrics"),
    "ingest_polls": Feed(lambda w: "/ingest/polls", method="post"),
    "ingest_hours": Feed(lambda w: "/ingest/hours", method="post"),
    "ingest_timezones": Feed(lambda w: "/ingest/timezones", method="post"),
    "ingest_owners": Feed(lambda w: "/ingest/owners", method="post"),
    "ingest_runs": Feed(lambda w: "/ingest/runs"),
    "ingest_run": Feed(lambda w: "/ingest/runs/1"),
    "ingest_run_rejects": Feed(lambda w: "/ingest/runs/1/rejects"),
}

#: Namespaces whose every URL is staff's: anyone else is sent to the admin's login page.
STAFF_NAMESPACES = {"admin"}

#: Namespaces whose access rules another table proves, checked there against the same URL conf:
#: the portal's pages (HTML, session login, 404 pages) are ``tests/portal/test_access_rules.py``'s
#: ``PAGES``, and a portal URL missing from it fails ``test_the_access_rules_cover_every_portal_route``.
DELEGATED_NAMESPACES = {"portal"}

#: Values for the admin's URL arguments, so that every admin pattern can be reversed and called.
SAMPLE_ARGUMENTS = {"object_id": "1", "app_label": "stores", "content_type_id": "1", "token": "A" * 22}


def named_patterns(
    patterns: list[URLPattern | URLResolver], namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """``(namespace:name, the route's full pattern text)`` of every pattern; an unnamed one is ``namespace:``."""
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern.url_patterns, inner, text)
        else:
            yield f"{namespace}{pattern.name or ''}", text


def every_pattern() -> list[tuple[str, str]]:
    return list(named_patterns(get_resolver().url_patterns))


def staff_only(name: str) -> bool:
    return name.split(":")[0] in STAFF_NAMESPACES


def delegated(name: str) -> bool:
    return ":" in name and name.split(":")[0] in DELEGATED_NAMESPACES


def test_every_url_pattern_has_a_name_and_an_access_rule_and_every_rule_a_pattern() -> None:
    names = [name for name, _ in every_pattern()]
    unnamed = [text for name, text in every_pattern() if not staff_only(name) and (name.endswith(":") or not name)]

    assert unnamed == []
    assert {name for name in names if not staff_only(name) and not delegated(name)} == set(ACCESS)
    assert {name.split(":")[0] for name in names if delegated(name)} == DELEGATED_NAMESPACES


@pytest.fixture
def world(tenants: Tenants) -> World:
    def complete(organization: Any) -> Report:
        report = Report(status=Report.Status.COMPLETE, as_of=tenants.now, organization=organization, rows=1)
        report.csv_file.save(f"{organization}.csv", ContentFile(b"store_id,uptime_last_hour\nx,60.00\n"), save=True)
        return report

    def subscription(organization: Any) -> Subscription:
        return subscription_create(
            organization=organization, cadence="daily", send_hour=8, email_to=[f"ops@{organization}.example"]
        ).subscription

    return World(
        tenants,
        complete(tenants.alpha),
        complete(tenants.beta),
        subscription(tenants.alpha),
        subscription(tenants.beta),
    )


def call(world: World, rule: Api | Authenticated | Public, who: str) -> Any:
    client = world.tenants.client(who) if isinstance(rule, Api) and not isinstance(rule, Page) else Client()
    if isinstance(rule, Page) and who != "anonymous":
        client.force_login(world.tenants.users[who])
    method = rule.method if isinstance(rule, Api) else "get"
    body = rule.body if isinstance(rule, Api) else {}
    return getattr(client, method)(rule.path(world), body, HTTP_ACCEPT="application/json")


def is_login_redirect(response: Any, login_url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(login_url)


def alpha_ids_in(response: Any, world: World) -> bool:
    return world.alpha_ids_in(response)


def beta_listed(response: Any, world: World, listing: str) -> bool:
    beta = world.beta_report.id if listing == "report" else world.beta_subscription.id
    return beta in response.content.decode()


TENANT_ROWS = [name for name, rule in ACCESS.items() if isinstance(rule, Api)]


@pytest.mark.parametrize("name", TENANT_ROWS)
def test_anonymous_is_refused_a_tenant_url(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Api)

    response = call(world, rule, "anonymous")

    if rule.anonymous == "login":
        assert is_login_redirect(response, resolve_url(settings.LOGIN_URL)), response.status_code
    else:
        assert response.status_code == 401, response.content
        assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("name", TENANT_ROWS)
def test_another_tenant_gets_a_404_or_a_list_without_the_object(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Api)

    response = call(world, rule, "bob")

    if rule.listing:
        assert response.status_code == 200
        assert not alpha_ids_in(response, world)
        assert beta_listed(response, world, rule.listing)
    else:
        assert response.status_code == 404, (response.status_code, response.content)
        assert list(response.json()) == ["detail"]  # the shape of any 404; it may echo the id asked for
    assert Report.objects.count() == 2


@pytest.mark.parametrize("name", TENANT_ROWS)
def test_a_member_is_allowed(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Api)

    response = call(world, rule, "alice")

    assert 200 <= response.status_code < 300, (response.status_code, response.content)
    if rule.listing:
        assert alpha_ids_in(response, world)


@pytest.mark.parametrize("name", TENANT_ROWS)
def test_a_viewer_reads_and_is_refused_a_write_with_403(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Api)

    response = call(world, rule, "vic")

    if rule.write:
        assert response.status_code == 403, response.content
        assert Report.objects.count() == 2
    else:
        assert 200 <= response.status_code < 300, (response.status_code, response.content)


@pytest.mark.parametrize("name", [name for name, rule in ACCESS.items() if isinstance(rule, Authenticated)])
def test_an_authenticated_url_refuses_anonymous_and_serves_any_user(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Authenticated)

    anonymous = APIClient().get(rule.path(world))
    served = world.tenants.client("nobody").get(rule.path(world))

    assert anonymous.status_code in (401, 403)
    assert served.status_code == 200
    assert not alpha_ids_in(served, world)


@pytest.mark.parametrize("name", [name for name, rule in ACCESS.items() if isinstance(rule, Public)])
def test_a_public_url_serves_anyone_and_no_tenant_data(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Public)

    response = getattr(Client(), rule.method)(rule.path(world))

    assert response.status_code == rule.status
    assert not alpha_ids_in(response, world)


def sample_path(text: str) -> str:
    """A path the pattern matches: each argument (``<conv:name>`` or ``(?P<name>…)``) by its sample value."""

    def value(match: re.Match[str]) -> str:
        return SAMPLE_ARGUMENTS.get(match.group("name"), "1")

    text = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, text.replace("(?P<", "(<"))
    text = re.sub(r"\(<(?P<name>\w+)>[^)]*\)", value, text)
    text = re.sub(r"\(<(?P<name>\w+)>", value, text)
    return "/" + text.replace("^", "").replace("$", "").replace("\\", "")


STAFF_ROWS = [(name, pattern) for name, pattern in every_pattern() if staff_only(name)]


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_every_staff_url_sends_anyone_but_staff_to_the_admin_login(world: World, who: str) -> None:
    client = Client()
    if who != "anonymous":
        client.force_login(world.tenants.users[who])
    assert len(STAFF_ROWS) > 20
    login = reverse("admin:login")
    for name, text in STAFF_ROWS:
        if name in ("admin:login", "admin:logout"):
            continue
        path = sample_path(text)
        response = client.get(path)
        assert is_login_redirect(response, login), (name, path, response.status_code)


FEED_ROWS = [name for name, rule in ACCESS.items() if isinstance(rule, Feed)]


@pytest.mark.parametrize("name", FEED_ROWS)
def test_an_ingestion_url_serves_feed_accounts_and_staff_only(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Feed)
    feed = APIClient()
    feed.credentials(HTTP_AUTHORIZATION=f"Token {feed_account_ensure(username='hourly-feed')}")
    path = rule.path(world)

    assert getattr(APIClient(), rule.method)(path).status_code == 401
    for member in ("alice", "vic"):
        assert getattr(world.tenants.client(member), rule.method)(path).status_code == 403, member
    for allowed in (feed, world.tenants.client("demo")):
        assert getattr(allowed, rule.method)(path).status_code not in (401, 403)


@pytest.mark.parametrize("name", [name for name, rule in ACCESS.items() if isinstance(rule, Probe)])
def test_a_probe_answers_without_a_login_and_shows_no_tenant_data(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Probe)

    response = Client().get(rule.path(world))  # the test client is a loopback client

    assert response.status_code in rule.statuses, response.status_code
    assert not alpha_ids_in(response, world) and "alpha" not in response.content.decode()


@pytest.mark.parametrize("name", [name for name, rule in ACCESS.items() if isinstance(rule, Signed)])
def test_a_signed_url_serves_whoever_holds_it_and_refuses_an_altered_one(world: World, name: str) -> None:
    rule = ACCESS[name]
    assert isinstance(rule, Signed)

    for client in (Client(), world.tenants.client("bob")):
        assert getattr(client, rule.method)(rule.forged(world)).status_code == rule.forged_status
    assert getattr(Client(), rule.method)(rule.valid(world)).status_code == 200
