"""``as_of`` is read strictly, by one parser, in the trigger and in the outages query alike.

Python 3.11's ``fromisoformat`` stops reading at a NUL: ``…Z\\x00anything``
would otherwise be taken for ``…Z``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from rest_framework.test import APIClient

from reports.models import Report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]

JUNK = [
    "2023-01-25T18:00:00Z\x00anything",
    "2023-01-25T18:00:00\x00",
    "2023-01-25\x00T18:00:00Z",
    "2023-01-25T18:00:00+00:00\x00junk",
]
MESSAGE = "as_of: Datetime has wrong format. Use one of these formats instead: ISO 8601, e.g. 2023-01-25T18:00:00Z."


@pytest.mark.parametrize("as_of", JUNK)
@pytest.mark.parametrize("where", ["json", "form", "query"])
def test_a_trigger_with_trailing_junk_after_as_of_is_a_json_400_and_starts_nothing(
    api_client: APIClient, week_of_polls: datetime, as_of: str, where: str
) -> None:
    if where == "json":
        response = api_client.post("/trigger_report", {"as_of": as_of}, format="json")
    elif where == "form":
        response = api_client.post("/trigger_report", {"as_of": as_of})
    else:
        response = api_client.post(f"/trigger_report?as_of={as_of.replace(chr(0), '%00')}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == MESSAGE
    assert not Report.objects.exists()


@pytest.mark.parametrize("as_of", JUNK)
def test_the_outages_query_refuses_the_same_as_of(api_client: APIClient, week_of_polls: datetime, as_of: str) -> None:
    response = api_client.get("/stores/office-hours/outages", {"as_of": as_of})

    assert response.status_code == 400
    assert response.json()["detail"] == MESSAGE


@pytest.mark.parametrize(
    "as_of", ["2023-01-25T18:00:00Z", "2023-01-25 18:00:00", "2023-01-25T23:30:00+05:30", "2023-01-25T18:00:00.5Z"]
)
def test_well_formed_as_of_forms_are_still_read(api_client: APIClient, week_of_polls: datetime, as_of: str) -> None:
    assert api_client.post("/trigger_report", {"as_of": as_of}, format="json").status_code == 202
    assert api_client.get("/stores/office-hours/outages", {"as_of": as_of}).status_code == 200
