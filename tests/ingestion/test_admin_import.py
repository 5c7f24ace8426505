"""The admin import screens for business hours and timezones: the ingest command's rules, shown on a page."""

from __future__ import annotations

import csv
import io
import re
from datetime import time

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from pytest_django.fixtures import Settings

import ingestion.admin
from stores.models import BusinessHours, Store
from tests.factories import BusinessHoursFactory, StoreFactory

pytestmark = pytest.mark.django_db

HOURS_URL = "admin:stores_businesshours_import"
ZONES_URL = "admin:stores_store_import"


def upload(client: Client, url_name: str, content: bytes, name: str = "upload.csv") -> str:
    response = client.post(reverse(url_name), {"import_file": SimpleUploadedFile(name, content, "text/csv")})
    assert response.status_code == 200
    return response.content.decode()


def schedule(store_id: str) -> list[tuple[int, time, time]]:
    return list(
        BusinessHours.objects.filter(store_id=store_id)
        .order_by("day_of_week", "start_time_local")
        .values_list("day_of_week", "start_time_local", "end_time_local")
    )


@pytest.mark.parametrize(("changelist", "url_name"), [("businesshours", HOURS_URL), ("store", ZONES_URL)])
def test_the_changelist_links_to_an_import_screen_that_names_the_columns(
    admin_client: Client, changelist: str, url_name: str
) -> None:
    listing = admin_client.get(reverse(f"admin:stores_{changelist}_changelist")).content.decode()
    screen = admin_client.get(reverse(url_name))

    assert reverse(url_name) in listing
    assert screen.status_code == 200
    assert "store_id" in screen.content.decode()
    assert 'type="file"' in screen.content.decode()


def test_there_is_no_separate_confirm_step() -> None:
    with pytest.raises(NoReverseMatch):
        reverse("admin:stores_businesshours_process_import")


def test_a_good_hours_file_loads_and_the_page_shows_the_counts(admin_client: Client) -> None:
    content = upload(
        admin_client,
        HOURS_URL,
        b"store_id,dayOfWeek,start_time_local,end_time_local\n1,0,09:00:00,17:00:00\n1,1,9:00,23:59:59\n2,6,22:00,02:00\n",
        name="menu_hours.csv",
    )

    assert "Loaded menu_hours.csv" in content
    assert '<td id="count-read">3</td>' in content
    assert '<td id="count-inserted">3</td>' in content
    assert '<td id="count-removed">0</td>' in content
    assert '<td id="count-rejected">0</td>' in content
    assert "Rejected rows" not in content
    assert "hours: 3 read, 3 new, 0 changed, 0 removed, 0 rejected" in content
    assert schedule("1") == [(0, time(9), time(17)), (1, time(9), time(23, 59, 59))]
    assert schedule("2") == [(6, time(22), time(2))]


@pytest.mark.parametrize("day_header", ["day", "dayOfWeek", "day_of_week"])
def test_the_hours_screen_reads_every_day_header(admin_client: Client, day_header: str) -> None:
    upload(
        admin_client, HOURS_URL, f"store_id,{day_header},start_time_local,end_time_local\n1,3,09:00,17:00\n".encode()
    )

    assert schedule("1") == [(3, time(9), time(17))]


def test_an_hours_file_with_bad_rows_lists_each_line_and_reason_and_loads_the_rest(admin_client: Client) -> None:
    content = upload(
        admin_client,
        HOURS_URL,
        b"store_id,day,start_time_local,end_time_local\n"
        b"1,0,09:00,17:00\n"  # 2
        b"1,7,09:00,17:00\n"  # 3
        b"\n"  # 4
        b"1,2,09:00,24:00:00\n"  # 5
        b"1,3,09:00\n"  # 6
        b"2,4,noon,17:00\n",  # 7
    )

    for line, reason, row in [
        (3, "day '7' is not a day of week 0-6 (0 = Monday)", "1,7,09:00,17:00"),
        (5, "end_time_local '24:00:00' is not a time of day", "1,2,09:00,24:00:00"),
        (6, "missing field: expected 4 columns, found 3", "1,3,09:00"),
        (7, "unparsable start_time_local 'noon' (expected HH:MM:SS)", "2,4,noon,17:00"),
    ]:
        assert f"<tr><td>{line}</td><td>{escape(reason)}</td><td><code>{row}</code></td></tr>" in content
    assert '<td id="count-rejected">4</td>' in content
    assert schedule("1") == [(0, time(9), time(17))]
    assert schedule("2") == []


def test_the_hours_screen_replaces_only_the_schedules_of_stores_the_file_names(admin_client: Client) -> None:
    named, other = StoreFactory(id="1"), StoreFactory(id="2")
    BusinessHoursFactory(store=named, day_of_week=0)
    BusinessHoursFactory(store=named, day_of_week=1)
    BusinessHoursFactory(store=other, day_of_week=2)

    content = upload(admin_client, HOURS_URL, b"store_id,day,start_time_local,end_time_local\n1,5,10:00,11:00\n")

    assert '<td id="count-removed">2</td>' in content
    assert schedule("1") == [(5, time(10), time(11))]
    assert schedule("2") == [(2, time(9), time(17))]


def test_loading_the_same_hours_file_twice_on_the_screen_changes_nothing(admin_client: Client) -> None:
    data = b"store_id,day,start_time_local,end_time_local\n1,0,09:00,17:00\n"
    upload(admin_client, HOURS_URL, data)

    content = upload(admin_client, HOURS_URL, data)

    assert '<td id="count-inserted">0</td>' in content
    assert '<td id="count-removed">0</td>' in content
    assert BusinessHours.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b"store_id,weekday,start_time_local,end_time_local\n1,0,09:00,17:00\n",
            "not a hours file: missing column day",
        ),
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "not a UTF-8 text file"),
        (b"store_id,day,start_time_local,end_time_local\n1,0,09:00,17:00\n\x00\x00\n", "not a CSV file"),
    ],
    ids=["missing-column", "empty", "binary", "nul"],
)
def test_a_bad_hours_file_shows_a_clear_error_and_stores_nothing(
    admin_client: Client, data: bytes, reason: str
) -> None:
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    content = upload(admin_client, HOURS_URL, data, name="bad.csv")

    assert f"bad.csv: {escape(reason)}" in content
    assert "Nothing from this file was stored." in content
    assert "Loaded bad.csv" not in content
    assert schedule("1") == [(2, time(9), time(17))]
    assert Store.objects.count() == 1


def test_an_upload_over_the_size_limit_is_refused_and_stores_nothing(admin_client: Client, settings: Settings) -> None:
    settings.IMPORT_MAX_UPLOAD_BYTES = 40
    data = b"store_id,day,start_time_local,end_time_local\n1,0,09:00,17:00\n"

    content = upload(admin_client, HOURS_URL, data, name="big.csv")

    # The upload is stopped at the limit, so its whole size is never known.
    assert "big.csv is larger than 40\xa0bytes; this screen takes files up to 40\xa0bytes" in content
    assert "Load larger files with manage.py ingest" in content
    assert BusinessHours.objects.count() == 0


def test_a_post_without_a_file_asks_for_one(admin_client: Client) -> None:
    response = admin_client.post(reverse(HOURS_URL), {})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_only_the_first_rejections_are_listed_and_the_rest_counted(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingestion.admin, "SHOWN_REJECTIONS", 2)

    content = upload(admin_client, ZONES_URL, b"store_id,timezone_str\n" + b"1,Nowhere\n" * 5)

    assert content.count("<tr><td>") == 2
    assert "and 3 more rejected rows not shown" in content
    assert '<td id="count-rejected">5</td>' in content


def test_a_good_timezones_file_loads_and_the_page_shows_the_counts(admin_client: Client) -> None:
    StoreFactory(id="1", timezone="America/Chicago")

    content = upload(
        admin_client, ZONES_URL, "\ufeff store_id , timezone_str \n1, Asia/Tokyo \n2,Europe/Paris\n".encode()
    )

    assert '<td id="count-read">2</td>' in content
    assert '<td id="count-inserted">1</td>' in content
    assert '<td id="count-updated">1</td>' in content
    assert "count-removed" not in content
    assert dict(Store.objects.values_list("id", "timezone")) == {"1": "Asia/Tokyo", "2": "Europe/Paris"}


def test_a_timezones_file_with_bad_rows_lists_them_and_leaves_those_zones_as_they_were(admin_client: Client) -> None:
    StoreFactory(id="1", timezone="Asia/Tokyo")

    content = upload(admin_client, ZONES_URL, b"store_id,timezone_str\n1,Mars/Olympus\n,Asia/Tokyo\n2,Europe/Paris\n")

    unknown = escape("unknown timezone 'Mars/Olympus'")
    assert f"<tr><td>2</td><td>{unknown}</td>" in content
    assert "<tr><td>3</td><td>store_id is empty</td>" in content
    assert dict(Store.objects.values_list("id", "timezone")) == {"1": "Asia/Tokyo", "2": "Europe/Paris"}


def test_a_timezones_file_missing_its_zone_column_stores_nothing(admin_client: Client) -> None:
    content = upload(admin_client, ZONES_URL, b"store_id,zone\n1,Asia/Tokyo\n")

    assert "missing column timezone_str" in content
    assert Store.objects.count() == 0


@pytest.mark.parametrize(
    ("url_name", "granted"),
    [(HOURS_URL, ["view_businesshours", "add_businesshours"]), (ZONES_URL, ["view_store", "add_store"])],
)
def test_importing_needs_the_permissions_to_make_the_changes(client: Client, url_name: str, granted: list[str]) -> None:
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=granted))
    client.force_login(staff)

    response = client.post(
        reverse(url_name), {"import_file": SimpleUploadedFile("f.csv", b"store_id,timezone_str\n1,Asia/Tokyo\n")}
    )

    assert response.status_code == 403
    assert Store.objects.count() == 0


def test_an_import_keeps_only_the_rejections_it_shows_and_offers_every_one_as_a_file(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingestion.admin, "SHOWN_REJECTIONS", 2)
    rows = b"".join(f"{n},Nowhere/{n}\n".encode() for n in range(5))

    response = admin_client.post(
        reverse(ZONES_URL), {"import_file": SimpleUploadedFile("zones.csv", b"store_id,timezone_str\n" + rows)}
    )

    assert [rejection.line for rejection in response.context["rejections"]] == [2, 3]
    link = re.search(r'<a id="rejects-file" href="([^"]+)"', response.content.decode())
    assert link is not None
    download = admin_client.get(link.group(1))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode()))) == [
        ["file", "line", "reason", "row"],
        *[["zones.csv", str(n + 2), f"unknown timezone 'Nowhere/{n}'", f"{n},Nowhere/{n}"] for n in range(5)],
    ]


def test_a_rejects_file_needs_the_import_permission_and_a_well_formed_token(
    admin_client: Client, client: Client, django_user_model: type[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingestion.admin, "SHOWN_REJECTIONS", 0)
    content = upload(admin_client, ZONES_URL, b"store_id,timezone_str\n1,Nowhere\n")
    link = re.search(r'<a id="rejects-file" href="([^"]+)"', content)
    assert link is not None
    staff = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    client.force_login(staff)

    assert client.get(link.group(1)).status_code == 403
    assert admin_client.get(reverse("admin:stores_store_import_rejects", args=["..%2Fetc%2Fpasswd"])).status_code == 404
    assert admin_client.get(reverse("admin:stores_store_import_rejects", args=["A" * 22])).status_code == 404


def test_an_hours_import_keeps_the_schedule_of_a_store_whose_every_row_is_rejected_and_says_so(
    admin_client: Client,
) -> None:
    BusinessHoursFactory(store=StoreFactory(id="1"), day_of_week=2)

    content = upload(admin_client, HOURS_URL, b"store_id,day,start_time_local,end_time_local\n1,9,09:00,17:00\n")

    assert schedule("1") == [(2, time(9), time(17))]
    assert '<td id="count-kept">1</td>' in content
    assert "1 stores kept their schedule (every row for them was rejected)" in content
