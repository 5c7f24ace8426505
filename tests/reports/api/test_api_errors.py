"""API paths answer every error in JSON, 500s too and with ``DEBUG`` on, and never echo an exception's text.

An unexpected error is logged with its traceback under an error id; the
answer carries that id and a fixed message, nothing of the exception (whose
text names database hosts, ports, users and file paths). Two real causes:
a report file the server cannot read, and a web server whose database does
not answer (a real process, a real HTTP request, a port nothing listens on).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from reports.models import Report

ERROR_ID = re.compile(r"^[0-9a-f]{16}$")


def assert_generic_500(status: int, content_type: str, body: bytes, *, leaks: list[str]) -> str:
    """The answer is a JSON 500 naming an error id and none of ``leaks``; returns the id."""
    assert status == 500
    assert content_type.startswith("application/json"), body[:300]
    answer = json.loads(body)
    assert ERROR_ID.match(answer["error_id"]), answer
    assert answer["error_id"] in answer["detail"]
    assert set(answer) == {"detail", "error_id"}
    for leak in leaks:
        assert leak not in body.decode(), leak
    return str(answer["error_id"])


@pytest.mark.django_db
@pytest.mark.usefixtures("isolated_reports")
@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])
def test_a_view_that_raises_answers_a_json_500_with_an_error_id_and_logs_the_traceback(
    api_client: APIClient, settings: Settings, caplog: pytest.LogCaptureFixture, debug: bool
) -> None:
    settings.DEBUG = debug
    report = Report.objects.create(status=Report.Status.COMPLETE, rows=0)
    # Its "file" is a directory: opening it raises IsADirectoryError, whose text is the server's path.
    (Path(settings.MEDIA_ROOT) / "reports").mkdir(parents=True)
    Report.objects.filter(id=report.id).update(csv_file="reports")
    api_client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="loopmonitor.error_ids"):
        response = api_client.get(f"/reports/{report.id}/download", HTTP_ACCEPT="text/html")

    error_id = assert_generic_500(
        response.status_code,
        response["Content-Type"],
        response.content,
        leaks=[str(settings.MEDIA_ROOT), "IsADirectoryError", "Is a directory", "Traceback"],
    )
    logged = [record for record in caplog.records if error_id in record.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is IsADirectoryError


@pytest.mark.django_db
def test_a_path_no_route_matches_is_a_json_404_with_debug_on_too(settings: Settings) -> None:
    settings.DEBUG = True

    response = Client().get("/reports/too-short/download")

    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}


@pytest.mark.django_db
def test_a_request_for_a_host_not_allowed_is_a_json_400(settings: Settings) -> None:
    settings.DEBUG = True

    response = Client().get("/get_report", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "bad request"}


@pytest.mark.django_db
def test_an_error_raised_by_a_middleware_is_a_json_500_with_an_error_id_too(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Django's CommonMiddleware raises RuntimeError, with DEBUG on, for a POST that
    # would need a slash appended; that happens outside any view.
    settings.DEBUG = True
    client = Client(raise_request_exception=False)

    with caplog.at_level(logging.ERROR, logger="loopmonitor.error_ids"):
        response = client.post("/api/schema", {"a": "b"})

    error_id = assert_generic_500(
        response.status_code, response["Content-Type"], response.content, leaks=["RuntimeError", "APPEND_SLASH"]
    )
    assert any(error_id in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_the_admin_keeps_its_html_error_pages(admin_client: Client) -> None:
    response = admin_client.get("/admin/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVE_WSGI = (
    "import sys; from wsgiref.simple_server import make_server; from django.core.wsgi import get_wsgi_application; "
    "make_server('127.0.0.1', int(sys.argv[1]), get_wsgi_application()).serve_forever()"
)


@pytest.fixture
def server_without_its_database(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """A real web server process (Django's WSGI app), DEBUG on, whose PostgreSQL port has nothing listening."""
    database_port, port = free_port(), free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "loopmonitor.settings",
        "DATABASE_URL": f"postgres://loop:secret@127.0.0.1:{database_port}/loopmonitor_gone",
        "LOOPMONITOR_VAR_DIR": str(tmp_path),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_WSGI, str(port)],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", database_port, log
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/get_report?report_id=AAAAAAAAAAAAAAAAAAAAAA", "/trigger_report"])
def test_an_api_call_while_the_database_is_down_is_a_json_500_without_the_database_error(
    server_without_its_database: tuple[str, int, Path], path: str
) -> None:
    base, database_port, log = server_without_its_database
    method = "POST" if path == "/trigger_report" else "GET"
    request = urllib.request.Request(
        base + path, method=method, headers={"Authorization": "Token " + "0" * 40, "Accept": "text/html"}
    )

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)

    error_id = assert_generic_500(
        answer.value.code,
        answer.value.headers["Content-Type"],
        answer.value.read(),
        leaks=["127.0.0.1", str(database_port), "loopmonitor_gone", "OperationalError", "connection", "Traceback"],
    )
    deadline = time.monotonic() + 10
    while error_id not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = log.read_text()
    assert f"error {error_id}: {method} {path.split('?')[0]} failed with OperationalError" in logged
    assert f'connection to server at "127.0.0.1", port {database_port} failed' in logged
