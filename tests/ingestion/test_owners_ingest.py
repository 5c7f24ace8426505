"""``ingest --owners`` and its admin screen: stores given to organizations by the same rules as the other files."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from ingestion.errors import Rejection
from ingestion.services import owners_ingest
from organizations.models import Organization
from stores.models import Store
from tests.factories import StoreFactory
from tests.ingestion.test_ingest_command import WriteCsv

pytestmark = pytest.mark.django_db

OWNERS_URL = "admin:organizations_organization_import"


def owners() -> dict[str, str | None]:
    return {store_id: slug for store_id, slug in Store.objects.values_list("id", "organization__slug").order_by("id")}


def test_a_missing_organization_is_created_and_a_later_row_moves_the_store(write_csv: WriteCsv) -> None:
    Organization.objects.create(slug="alpha", name="Alpha Foods")
    StoreFactory(id="s1")
    path = write_csv("owners.csv", "store_id,organization\ns1,alpha\ns2,beta\ns1,beta\n")

    result = owners_ingest(path=path)

    assert owners() == {"s1": "beta", "s2": "beta"}
    assert dict(Organization.objects.values_list("slug", "name")) == {"alpha": "Alpha Foods", "beta": "beta"}
    assert (result.read, result.inserted, result.updated, result.rejected, result.organizations_created) == (
        3,
        2,
        0,
        0,
        1,
    )


def test_stores_not_named_keep_theirs_and_a_move_counts_as_changed(write_csv: WriteCsv) -> None:
    alpha, beta = (Organization.objects.create(slug=slug, name=slug) for slug in ("alpha", "beta"))
    StoreFactory(id="kept", organization=alpha)
    StoreFactory(id="moved", organization=alpha)
    StoreFactory(id="same", organization=beta)
    path = write_csv("owners.csv", "organization,store_id\nbeta,moved\nbeta,same\n")

    result = owners_ingest(path=path)

    assert owners() == {"kept": "alpha", "moved": "beta", "same": "beta"}
    assert (result.inserted, result.updated) == (0, 1)
    assert result.summary().startswith("owners: 2 read, 0 new, 1 changed, 0 rejected")


def test_a_bad_slug_or_store_id_is_rejected_with_its_line_and_reason_and_the_rest_loads(write_csv: WriteCsv) -> None:
    StoreFactory(id="s1")
    path = write_csv("owners.csv", "store_id,organization\ns1,Alpha Foods\n,beta\ns2,beta\ns3,-x\ns1\n")
    rejected: list[Rejection] = []

    owners_ingest(path=path, on_reject=rejected.append)

    slug_rule = "1-50 characters from a-z 0-9 -, starting with a letter or a digit"
    assert [(rejection.line, rejection.reason) for rejection in rejected] == [
        (2, f"organization 'Alpha Foods' is not a slug: {slug_rule}"),
        (3, "store_id is empty"),
        (5, f"organization '-x' is not a slug: {slug_rule}"),
        (6, "missing field: expected 2 columns, found 1"),
    ]
    assert owners() == {"s1": None, "s2": "beta"}
    assert list(Organization.objects.values_list("slug", flat=True)) == ["beta"]


def test_a_file_without_the_organization_column_stores_nothing(write_csv: WriteCsv) -> None:
    path = write_csv("owners.csv", "store_id,timezone_str\ns1,alpha\n")
    err = io.StringIO()

    with pytest.raises(SystemExit) as stopped:
        call_command("ingest", "--owners", str(path), stdout=io.StringIO(), stderr=err)

    assert stopped.value.code == 2
    assert "not a owners file: missing column organization" in err.getvalue()
    assert not Store.objects.exists() and not Organization.objects.exists()


def test_the_command_prints_the_summary_and_the_rejected_lines(write_csv: WriteCsv) -> None:
    path = write_csv("owners.csv", "store_id,organization\ns1,alpha\ns2,ALPHA\n")
    out, err = io.StringIO(), io.StringIO()

    call_command("ingest", "--owners", str(path), stdout=out, stderr=err)

    assert out.getvalue().startswith("owners: 2 read, 1 new, 0 changed, 1 rejected in ")
    assert "1 organizations created" in out.getvalue()
    assert f"{path}:3: rejected: organization 'ALPHA' is not a slug" in err.getvalue()
    assert owners() == {"s1": "alpha"}


def test_the_admin_screen_loads_owners_by_the_same_rules(admin_client: Client) -> None:
    StoreFactory(id="s1")
    content = b"store_id,organization\ns1,alpha\ns2,Bad Slug\n"

    response = admin_client.post(
        reverse(OWNERS_URL), {"import_file": SimpleUploadedFile("owners.csv", content, "text/csv")}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert '<td id="count-read">2</td>' in page
    assert '<td id="count-inserted">1</td>' in page
    reason = escape("organization 'Bad Slug' is not a slug")
    assert f"<tr><td>3</td><td>{reason}" in page
    assert owners() == {"s1": "alpha"}
    changelist = admin_client.get(reverse("admin:organizations_organization_changelist")).content.decode()
    assert reverse(OWNERS_URL) in changelist
