"""``/healthz``, ``/readyz`` and ``/metrics`` through Django's test client; a live qcluster for readiness."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from pytest_django.fixtures import Settings

from ingestion.services import polls_ingest
from reports.models import Report, ReportShard
from tests.reports.test_qcluster_live import Cluster

OUTSIDE = "203.0.113.7"


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = (
        rf"{re.escape(name)}(?:\{{[^}}]*{re.escape(labels)}[^}}]*\}})? (\S+)" if labels else rf"{re.escape(name)} (\S+)"
    )
    values = [float(value) for value in re.findall(f"^{pattern}$", text, flags=re.MULTILINE)]
    assert values, f"{name} {labels} not in the metrics"
    return sum(values)


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0


@pytest.mark.django_db
def test_readyz_is_a_503_naming_only_the_failed_check_when_no_worker_cluster_was_seen(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "failed",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "workers": "failed"},
    }


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "reader"])
def test_readyz_is_ok_once_a_real_qcluster_runs(
    qcluster: Cluster, broker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if name := broker_env.get("Q_CLUSTER_NAME"):
        # django-q2 derives the stats key from the cluster's name once, at import.
        monkeypatch.setattr(Conf, "Q_STAT", f"django_q:{name}:cluster")
    deadline = time.monotonic() + 60
    while (response := Client().get("/readyz")).status_code != 200:
        if trouble := qcluster.trouble():
            pytest.fail(f"{trouble}\n{qcluster.log_tail()}")
        assert time.monotonic() < deadline, (response.json(), qcluster.log_tail())
        time.sleep(0.5)

    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok", "workers": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_the_probes_answer_plain_http_while_everything_else_is_redirected(settings: Settings, path: str) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = Client()

    assert client.get(path).status_code in (200, 503)
    assert client.get("/get_report").status_code == 301


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_from_outside(settings: Settings) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    client = Client(REMOTE_ADDR=OUTSIDE)

    refused = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")

    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)
    assert refused["Content-Type"] == "application/json"
    assert b"loopmonitor" not in refused.content
    assert allowed["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_metrics_are_open_to_loopback_unless_a_proxy_forwarded_the_request(settings: Settings) -> None:
    settings.METRICS_TOKEN = ""

    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR=OUTSIDE).status_code == 401
    assert Client(REMOTE_ADDR=OUTSIDE).get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_count_reports_shards_and_queue_from_the_database(client: Client) -> None:
    complete = Report.objects.create(status=Report.Status.COMPLETE, rows=3)
    Report.objects.filter(id=complete.id).update(finished_at=F("created_at") + timedelta(seconds=7))
    Report.objects.create(status=Report.Status.FAILED)
    running = Report.objects.create(status=Report.Status.RUNNING)
    for index, attempts in enumerate([1, 3, 2]):
        ReportShard.objects.create(report=running, index=index, stores=1, inputs=[], attempts=attempts)

    text = client.get("/metrics").content.decode()

    assert metric(text, "loopmonitor_reports_triggered_total") == 3
    assert metric(text, "loopmonitor_reports_completed_total") == 1
    assert metric(text, "loopmonitor_reports_failed_total") == 1
    assert metric(text, "loopmonitor_reports_unfinished") == 1
    assert metric(text, "loopmonitor_report_shards_retried_total") == 3
    assert metric(text, "loopmonitor_report_duration_seconds_count") == 1
    assert metric(text, "loopmonitor_report_duration_seconds_sum") == pytest.approx(7)
    assert metric(text, "loopmonitor_report_duration_seconds_bucket", 'le="5.0"') == 0
    assert metric(text, "loopmonitor_report_duration_seconds_bucket", 'le="10.0"') == 1
    assert metric(text, "loopmonitor_queue_depth") == 0
    assert "# TYPE loopmonitor_deliveries_total counter" in text


@pytest.mark.django_db
def test_metrics_count_requests_by_route_and_ingested_rows_and_rejects(client: Client, write_csv) -> None:  # type: ignore[no-untyped-def]
    before = client.get("/metrics").content.decode()
    path: Path = write_csv(
        "polls.csv",
        "store_id,status,timestamp_utc\ns1,active,2023-01-25 10:00:00.0 UTC\ns1,sleeping,2023-01-25 11:00:00 UTC\n",
    )
    polls_ingest(path=path)
    for _ in range(3):
        client.get("/get_report?report_id=x")

    after = client.get("/metrics").content.decode()

    def grew(name: str, labels: str) -> float:
        # This process's counters were counted by earlier tests too: compare with before.
        try:
            old = metric(before, name, labels)
        except AssertionError:
            old = 0.0
        return metric(after, name, labels) - old

    assert grew("loopmonitor_http_requests_total", 'route="^get_report/?$",status="401"') == 3
    assert grew("loopmonitor_http_request_duration_seconds_count", 'route="^get_report/?$"') == 3
    assert grew("loopmonitor_ingest_rows_total", 'kind="polls"') == 2
    assert grew("loopmonitor_ingest_rejected_rows_total", 'kind="polls"') == 1
    assert json.loads(client.get("/healthz").content) == {"status": "ok"}
