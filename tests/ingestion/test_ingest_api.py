"""``POST /ingest/<kind>`` and ``GET /ingest/runs``: the hourly feed over HTTP, through the real stack."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ingestion.accounts import feed_account_ensure
from ingestion.errors import Rejection
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.services import polls_ingest
from stores.models import BusinessHours, Poll, Store

pytestmark = pytest.mark.django_db

POLLS_HEADER = "store_id,status,timestamp_utc\n"
GOOD_POLLS = POLLS_HEADER + "1,active,2023-01-22 12:00:00 UTC\n2,inactive,2023-01-22 12:05:00 UTC\n"
# The command's bad-row cases (tests/ingestion/test_polls_ingest.py), one row each.
BAD_ROWS = (
    POLLS_HEADER
    + "1,active,2023-01-22 12:00:00 UTC\n"  # 2
    + "1,up,2023-01-22 13:00:00 UTC\n"  # 3
    + "1,active,yesterday\n"  # 4
    + "1,active\n"  # 5
    + ",active,2023-01-22 14:00:00 UTC\n"  # 6
    + "1,inactive,2023-01-22 15:00:00 UTC\n"  # 7
)


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def feed() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {feed_account_ensure(username='feed-bot')}")
    return client


@pytest.fixture
def plain_user(django_user_model: type[User]) -> APIClient:
    return token_client(django_user_model.objects.create_user(username="viewer"))


def post_csv(client: APIClient, kind: str, text: str | bytes, **headers: str) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return client.generic("POST", f"/ingest/{kind}", body, content_type="text/csv", **headers)


def post_file(client: APIClient, kind: str, text: str | bytes, name: str = "polls.csv") -> Any:
    upload = io.BytesIO(text.encode() if isinstance(text, str) else text)
    upload.name = name
    return client.post(f"/ingest/{kind}", {"file": upload}, format="multipart")


def post_json(client: APIClient, body: Any) -> Any:
    return client.post("/ingest/polls", body, format="json")


def test_a_csv_body_loads_in_the_request_and_answers_201_with_the_run(feed: APIClient) -> None:
    response = post_csv(feed, "polls", GOOD_POLLS)

    assert response.status_code == 201, response.content
    body = response.json()
    assert {key: body[key] for key in ("kind", "status", "read", "stored", "updated", "unchanged", "rejected")} == {
        "kind": "polls",
        "status": "complete",
        "read": 2,
        "stored": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert body["rejects"] == []
    assert Poll.objects.count() == 2
    run = IngestRun.objects.get(pk=body["id"])
    assert (run.source, run.user.username, run.finished_at is not None) == ("api", "feed-bot", True)


def test_a_multipart_upload_of_each_kind_loads(feed: APIClient) -> None:
    hours = "store_id,dayOfWeek,start_time_local,end_time_local\n1,0,09:00:00,17:00:00\n"
    zones = "store_id,timezone_str\n1,Asia/Tokyo\n"

    answers = [post_file(feed, "timezones", zones, "tz.csv"), post_file(feed, "hours", hours, "hours.csv")]
    answers.append(post_file(feed, "polls", GOOD_POLLS))

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert [answer.json()["file_name"] for answer in answers] == ["tz.csv", "hours.csv", "polls.csv"]
    assert Store.objects.get(id="1").timezone == "Asia/Tokyo"
    assert BusinessHours.objects.filter(store_id="1").count() == 1
    assert Poll.objects.count() == 2


def test_a_repeated_load_is_all_unchanged(feed: APIClient) -> None:
    post_csv(feed, "polls", GOOD_POLLS)

    again = post_csv(feed, "polls", GOOD_POLLS).json()

    assert (again["read"], again["stored"], again["updated"], again["unchanged"]) == (2, 0, 0, 2)


def test_bad_rows_over_http_get_the_commands_lines_and_reasons(feed: APIClient, tmp_path: Path) -> None:
    path = tmp_path / "polls.csv"
    path.write_text(BAD_ROWS)
    by_command: list[Rejection] = []
    polls_ingest(path=path, on_reject=by_command.append)
    Poll.objects.all().delete()

    response = post_csv(feed, "polls", BAD_ROWS)

    assert response.status_code == 201
    body = response.json()
    assert body["rejects"] == [{"line": r.line, "reason": r.reason} for r in by_command]
    assert [r["line"] for r in body["rejects"]] == [3, 4, 5, 6]
    assert (body["read"], body["stored"], body["rejected"]) == (6, 2, 4)
    assert Poll.objects.count() == 2


def test_the_rejects_csv_of_a_run_downloads_with_every_rejected_row(feed: APIClient) -> None:
    run = post_csv(feed, "polls", BAD_ROWS).json()

    response = feed.get(run["rejects_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["file", "line", "reason", "row"]
    assert [(row[0], row[1], row[3]) for row in rows[1:]] == [
        ("polls.csv", "3", "1,up,2023-01-22 13:00:00 UTC"),
        ("polls.csv", "4", "1,active,yesterday"),
        ("polls.csv", "5", "1,active"),
        ("polls.csv", "6", ",active,2023-01-22 14:00:00 UTC"),
    ]


def test_a_run_without_rejects_has_no_rejects_file(feed: APIClient) -> None:
    run = post_csv(feed, "polls", GOOD_POLLS).json()

    assert run["rejects_url"] is None
    assert feed.get(f"/ingest/runs/{run['id']}/rejects").status_code == 404


def test_json_polls_get_the_same_reasons_with_the_array_index_plus_one(feed: APIClient, tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(BAD_ROWS)))[1:]
    elements: list[Any] = [dict(zip(("store_id", "status", "timestamp_utc"), row, strict=False)) for row in rows]
    path = tmp_path / "polls.csv"
    path.write_text(BAD_ROWS)
    by_command: list[Rejection] = []
    polls_ingest(path=path, on_reject=by_command.append)
    Poll.objects.all().delete()

    body = post_json(feed, elements).json()

    # Line 5 of the CSV is short a column; as JSON the object lacks the field.
    expected = [
        {"line": r.line - 1, "reason": "missing field: timestamp_utc" if r.line == 5 else r.reason} for r in by_command
    ]
    assert body["rejects"] == expected
    assert (body["read"], body["stored"], body["rejected"]) == (6, 2, 4)
    assert Poll.objects.count() == 2


def test_json_elements_that_are_not_objects_of_strings_are_rejected_rows(feed: APIClient) -> None:
    good = {"store_id": "1", "status": "active", "timestamp_utc": "2023-01-22 12:00:00 UTC"}

    body = post_json(feed, [good, 7, {**good, "store_id": 12}, {"store_id": "2"}]).json()

    assert body["rejects"] == [
        {"line": 2, "reason": "not an object: an element is {store_id, timestamp_utc, status}, this one is a number"},
        {"line": 3, "reason": "store_id is a number, not a string"},
        {"line": 4, "reason": "missing field: timestamp_utc"},
    ]
    assert body["stored"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"store_id,when\n1,2023-01-22\n", "text/csv", "missing column"),
        (b"store_id,status,timestamp_utc\n1,active,\xff\xfe\n", "text/csv", "not a UTF-8 text file"),
        (b"store_id,status,timestamp_utc\n1,active\x00,x\n", "text/csv", "NUL byte"),
        (b"", "text/csv", "the file is empty"),
        (b"[{", "application/json", "not JSON"),
        (b'{"store_id": "1"}', "application/json", "not a JSON array"),
    ],
)
def test_a_bad_file_is_a_400_with_the_reason_and_stores_nothing(
    feed: APIClient, body: bytes, content_type: str, reason: str
) -> None:
    response = feed.generic("POST", "/ingest/polls", body, content_type=content_type)

    assert response.status_code == 400, response.content
    assert reason in response.json()["detail"]
    assert "Nothing from this file was stored" in response.json()["detail"]
    assert Poll.objects.count() == 0
    assert IngestRun.objects.get().status == "failed"


def test_a_multipart_request_without_the_file_field_is_a_400(feed: APIClient) -> None:
    response = feed.post("/ingest/polls", {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert "field `file`" in response.json()["detail"]


def test_an_unknown_content_type_is_a_415_and_json_is_for_polls_only(feed: APIClient) -> None:
    xml = feed.generic("POST", "/ingest/polls", b"<polls/>", content_type="application/xml")
    hours_json = feed.post("/ingest/hours", [], format="json")

    assert (xml.status_code, hours_json.status_code) == (415, 415)
    assert "text/csv" in xml.json()["detail"]


def test_an_oversized_body_or_upload_is_a_413_and_stores_nothing(feed: APIClient, settings: Settings) -> None:
    settings.INGEST_MAX_UPLOAD_BYTES = 40

    body = post_csv(feed, "polls", GOOD_POLLS)
    upload = post_file(feed, "polls", GOOD_POLLS)

    assert (body.status_code, upload.status_code) == (413, 413)
    assert "larger than 40 bytes" in body.json()["detail"]
    assert Poll.objects.count() == 0
    assert IngestRun.objects.count() == 0


def test_an_idempotency_key_makes_a_retry_return_the_first_run(feed: APIClient) -> None:
    first = post_csv(feed, "polls", GOOD_POLLS, HTTP_IDEMPOTENCY_KEY="hour-2023-01-22T12")
    Poll.objects.all().delete()  # a retry must not load again, so this stays empty

    retry = post_csv(feed, "polls", GOOD_POLLS, HTTP_IDEMPOTENCY_KEY="hour-2023-01-22T12")
    other = post_csv(feed, "polls", GOOD_POLLS, HTTP_IDEMPOTENCY_KEY="hour-2023-01-22T13")

    assert (first.status_code, retry.status_code, other.status_code) == (201, 201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert other.json()["id"] != first.json()["id"]
    assert IngestRun.objects.count() == 2
    assert Poll.objects.count() == 2  # loaded by the third request only


def test_an_idempotent_retry_of_a_bad_file_is_the_same_400(feed: APIClient) -> None:
    first = post_csv(feed, "polls", "nope\n", HTTP_IDEMPOTENCY_KEY="k")
    retry = post_csv(feed, "polls", GOOD_POLLS, HTTP_IDEMPOTENCY_KEY="k")

    assert (first.status_code, retry.status_code) == (400, 400)
    assert retry.json()["run"]["id"] == first.json()["run"]["id"]
    assert Poll.objects.count() == 0


def test_a_body_over_the_inline_limit_is_stored_for_a_worker_with_202_and_location(
    feed: APIClient, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INGEST_INLINE_MAX_BYTES = 10

    response = post_csv(feed, "polls", GOOD_POLLS)

    assert response.status_code == 202, response.content
    run = IngestRun.objects.get()
    assert response["Location"] == f"http://testserver/ingest/runs/{run.pk}"
    assert response.json()["status"] == "running"
    assert run.upload and Path(run.upload.path).read_text() == GOOD_POLLS
    assert Poll.objects.count() == 0


def test_a_large_file_with_a_bad_header_is_refused_before_it_is_queued(feed: APIClient, settings: Settings) -> None:
    settings.INGEST_INLINE_MAX_BYTES = 10

    response = post_csv(feed, "polls", "store_id,when\n1,2\n" * 3)

    assert response.status_code == 400
    assert "missing column" in response.json()["detail"]
    assert not IngestRun.objects.get().upload


def test_runs_are_listed_newest_first_filtered_and_shown_one_by_one(feed: APIClient) -> None:
    polls = post_csv(feed, "polls", GOOD_POLLS).json()
    zones = post_csv(feed, "timezones", "store_id,timezone_str\n1,Asia/Tokyo\n").json()

    listed = feed.get("/ingest/runs").json()
    only_polls = feed.get("/ingest/runs?kind=polls").json()
    one = feed.get(f"/ingest/runs/{polls['id']}")

    assert [run["id"] for run in listed["results"]] == [zones["id"], polls["id"]]
    assert [run["id"] for run in only_polls["results"]] == [polls["id"]]
    assert one.status_code == 200
    assert one.json()["stored"] == 2
    assert feed.get("/ingest/runs/999999").status_code == 404


ENDPOINTS = [("post", f"/ingest/{kind}") for kind in INGEST_KINDS] + [
    ("get", "/ingest/runs"),
    ("get", "/ingest/runs/1"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_is_401_and_a_user_without_the_permission_is_403(
    plain_user: APIClient, method: str, url: str
) -> None:
    anonymous = getattr(APIClient(), method)(url)
    plain = getattr(plain_user, method)(url)

    assert anonymous.status_code == 401
    assert plain.status_code == 403
    assert "ingestion permission" in plain.json()["detail"]
    assert IngestRun.objects.count() == 0


def test_staff_may_load(django_user_model: type[User]) -> None:
    staff = token_client(django_user_model.objects.create_user(username="ops", is_staff=True))

    assert post_csv(staff, "polls", GOOD_POLLS).status_code == 201


def test_feed_account_prints_a_token_that_may_load_and_keeps_it_on_a_second_call() -> None:
    out = io.StringIO()
    call_command("feed_account", "hourly-feed", stdout=out)
    again = io.StringIO()
    call_command("feed_account", "hourly-feed", stdout=again)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")

    assert out.getvalue() == again.getvalue()
    assert User.objects.get(username="hourly-feed").groups.filter(name="feed").exists()
    assert not User.objects.get(username="hourly-feed").has_usable_password()
    assert post_csv(client, "polls", GOOD_POLLS).status_code == 201


def test_the_feed_group_made_by_the_migration_holds_the_ingestion_permission() -> None:
    from django.contrib.auth.models import Group

    assert list(Group.objects.get(name="feed").permissions.values_list("codename", flat=True)) == ["ingest"]


def test_a_json_body_is_also_read_when_the_client_sends_it_as_a_string(feed: APIClient) -> None:
    body = json.dumps([{"store_id": "1", "status": "active", "timestamp_utc": "2023-01-22 12:00:00 UTC"}])

    response = feed.generic("POST", "/ingest/polls", body, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["stored"] == 1
