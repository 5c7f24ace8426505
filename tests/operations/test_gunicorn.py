"""Production serving, for real: gunicorn with ``DEBUG=0`` and WhiteNoise, through a socket.

``collectstatic`` runs once for the module with the production settings
(compressed, hashed names and a manifest). Each gunicorn is started with
the environment a deployment sets (its own settings module, not the
suite's; a secret key; ``ALLOWED_HOSTS``; behind a TLS proxy, so the HTTPS
redirect is on and the proxy's ``X-Forwarded-Proto`` is trusted) on the test
database, with two sync workers, so what must be shared between processes
(throttle counters, metrics, the cluster's stats) is shown to be. A real
qcluster computes the report, on the database broker and on Redis.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from tests.reports.conftest import BuildReportCsv
from tests.reports.test_qcluster_live import Cluster, this_tests_database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "reader"]),
    pytest.mark.usefixtures("isolated_reports"),
]

#: The suite's own settings turn DEBUG on; a production process must not see them.
SUITE_ONLY = {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "LOOPMONITOR_DEVTOOLS"}
BEHIND_TLS = {"X-Forwarded-Proto": "https"}
WORKERS = 2
USER_RATE = 150


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SUITE_ONLY}
    return env | {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUST_X_FORWARDED_PROTO": "1",
        "LOOPMONITOR_VAR_DIR": str(var_dir),
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var directory whose ``static/`` holds ``collectstatic``'s output, made with the production settings."""
    var_dir = tmp_path_factory.mktemp("var")
    env = production_env(var_dir, DATABASE_URL=f"sqlite:///{var_dir / 'unused.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (var_dir / "static" / "staticfiles.json").is_file()
    return var_dir


@pytest.fixture(autouse=True)
def own_cache_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys of their own in a Redis other runs share, for gunicorn and the qcluster alike (set before either)."""
    monkeypatch.setenv("CACHE_KEY_PREFIX", f"test-{os.getpid()}-{time.monotonic_ns()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Gunicorn:
    url: str
    log_path: Path
    metrics_dir: Path

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


@contextlib.contextmanager
def gunicorn(var_dir: Path, tmp_path: Path, **extra: str) -> Iterator[Gunicorn]:
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    log_path = tmp_path / "gunicorn.log"
    env = production_env(var_dir, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), LOG_FORMAT="json", **extra)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:loopmonitor.gunicorn_conf",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "loopmonitor.wsgi",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Gunicorn(f"http://127.0.0.1:{port}", log_path, metrics_dir)
    try:
        deadline = time.monotonic() + 60
        while fetch(f"{server.url}/healthz")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start:\n" + "\n".join(server.log_lines()[-40:]))
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def serve_on_both_workers(server: Gunicorn) -> None:
    """One request answered by each sync worker, whichever the kernel would have picked.

    The first connection sends half a request, so the worker that accepted it
    waits on it; the second request can then only be answered by the other.
    """
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as held:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert fetch(f"{server.url}/healthz")[0] == 200
        held.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def static_links(page: bytes, suffix: str) -> list[str]:
    return sorted(set(re.findall(rf'(?:href|src)="(/static/[^"]+\.{suffix})"', page.decode())))


def poll_complete(server: Gunicorn, report_url: str, auth: dict[str, str], cluster: Cluster) -> tuple[int, dict]:
    deadline = time.monotonic() + 90
    polls = 0
    while time.monotonic() < deadline:
        status, _, body = fetch(report_url, auth | {"Accept": "application/json"})
        polls += 1
        assert status == 200, body
        answer = json.loads(body)
        if answer["status"] != "Running":
            return polls, answer
        if trouble := cluster.trouble():
            pytest.fail(f"{trouble}\n{cluster.log_tail()}")
        time.sleep(0.5)
    pytest.fail(f"the report is still Running\n{cluster.log_tail()}")


def metric_values(text: str, name: str, matches: Callable[[str], bool] = lambda labels: True) -> float:
    total = 0.0
    for line in text.splitlines():
        found = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if found and matches(found.group(1) or ""):
            total += float(found.group(2))
    return total


def test_gunicorn_serves_the_admin_swagger_and_a_report_computed_by_a_real_worker(
    collected_static: Path,
    tmp_path: Path,
    qcluster: Cluster,
    broker_env: dict[str, str],
    user: User,
    django_user_model: type[User],
    week_of_polls: datetime,
    build_report_csv: BuildReportCsv,
) -> None:
    environment = {
        # The qcluster's: django-q2 signs tasks and cluster stats with it, so every process shares one key.
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": this_tests_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "THROTTLE_USER_RATE": f"{USER_RATE}/min",
        **broker_env,
    }
    auth = {"Authorization": f"Token {Token.objects.create(user=user).key}"} | BEHIND_TLS
    with gunicorn(collected_static, tmp_path, **environment) as server:
        # Plain HTTP is redirected to HTTPS, except the probes.
        assert fetch(f"{server.url}/admin/login/")[0] == 301
        assert fetch(f"{server.url}/healthz")[0] == 200

        # The admin's login page and its CSS, hashed, compressed and cached for good by WhiteNoise.
        status, _, page = fetch(f"{server.url}/admin/login/", BEHIND_TLS)
        assert status == 200
        stylesheets = static_links(page, "css")
        assert any(re.fullmatch(r"/static/admin/css/base\.[0-9a-f]{12}\.css", link) for link in stylesheets)
        for link in stylesheets:
            status, headers, body = fetch(server.url + link, BEHIND_TLS | {"Accept-Encoding": "gzip"})
            assert status == 200, link
            assert headers["Content-Type"].startswith("text/css")
            assert headers.get("Content-Encoding") == "gzip", link
            assert "max-age=315360000" in headers["Cache-Control"]
            assert body

        # Swagger UI's page and every script and stylesheet it loads.
        status, _, page = fetch(f"{server.url}/api/docs/", auth)
        assert status == 200
        assets = static_links(page, "js") + static_links(page, "css")
        assert any("swagger-ui-bundle" in link for link in assets), assets
        for link in assets:
            status, headers, body = fetch(server.url + link, BEHIND_TLS)
            assert status == 200, link
            assert body

        # A report: triggered through gunicorn, computed by the qcluster, downloaded through gunicorn.
        status, headers, body = fetch(f"{server.url}/trigger_report", auth, method="POST")
        assert status == 202, body
        report_url = headers["Location"]
        assert report_url.startswith("https://127.0.0.1:")  # the proxy's scheme, trusted
        report_url = report_url.replace("https://", "http://", 1)
        polls, answer = poll_complete(server, report_url, auth, qcluster)
        assert answer["status"] == "Complete", answer
        status, headers, body = fetch(report_url, auth | {"X-Request-ID": "check-request-0001"})
        assert status == 200
        assert headers["Content-Type"] == "text/csv"
        assert headers["X-Request-ID"] == "check-request-0001"
        assert body.decode() == build_report_csv(week_of_polls)

        # The user rate is shared by both workers: exactly USER_RATE calls of another user pass in a minute.
        # (Staff, like the first user: a fleet report is staff's only.)
        bob = django_user_model.objects.create_user("bob", is_staff=True)
        other = {"Authorization": f"Token {Token.objects.create(user=bob).key}"}
        # The rate is counted in fixed minutes: the calls must not straddle one's end.
        if (left := 60 - time.time() % 60) < 20:
            time.sleep(left + 0.1)
        answers = [fetch(report_url, other | BEHIND_TLS | {"Accept": "application/json"}) for _ in range(USER_RATE + 5)]
        assert [status for status, _, _ in answers].count(200) == USER_RATE
        assert [status for status, _, _ in answers[USER_RATE:]] == [429] * 5
        status, headers, body = answers[-1]
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["detail"].startswith("Request was throttled.")
        assert 1 <= int(headers["Retry-After"]) <= 60

        # Metrics add up the counts of both workers; report figures come from the database.
        serve_on_both_workers(server)
        status, _, body = fetch(f"{server.url}/metrics")
        assert status == 200
        metrics = body.decode()
        get_report_calls = polls + 1 + USER_RATE + 5
        assert metric_values(metrics, "loopmonitor_http_requests_total", lambda labels: "get_report" in labels) == (
            get_report_calls
        )
        throttled = metric_values(metrics, "loopmonitor_http_requests_total", lambda labels: 'status="429"' in labels)
        assert throttled == 5
        assert metric_values(metrics, "loopmonitor_reports_triggered_total") == 1
        assert metric_values(metrics, "loopmonitor_reports_completed_total") == 1
        assert metric_values(metrics, "loopmonitor_report_duration_seconds_count") == 1
        assert len(list(server.metrics_dir.glob("counter_*.db"))) == WORKERS  # each worker counted its own

        # Ready: the database, its migrations, the broker and the qcluster's recent stats.
        status, _, body = fetch(f"{server.url}/readyz")
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "workers": "ok"}},
        )

        # One JSON log line per request, with its id.
        records = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
        requests = [record for record in records if record["logger"] == "loopmonitor.request"]
        (downloaded,) = [record for record in requests if record["request_id"] == "check-request-0001"]
        assert downloaded["status"] == 200 and downloaded["path"] == "/get_report"
        assert sum(1 for record in requests if record["route"] == "^get_report/?$") == get_report_calls


def test_without_its_database_gunicorn_is_alive_but_not_ready(collected_static: Path, tmp_path: Path) -> None:
    database_port = free_port()
    database_url = f"postgres://loop:secret@127.0.0.1:{database_port}/loopmonitor_gone"
    with gunicorn(collected_static, tmp_path, DATABASE_URL=database_url, REDIS_URL="") as server:
        live = fetch(f"{server.url}/healthz")
        status, headers, body = fetch(f"{server.url}/readyz")

    assert (live[0], json.loads(live[2])) == (200, {"status": "ok"})
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "status": "failed",
        "checks": {"database": "failed", "migrations": "failed", "broker": "failed", "workers": "failed"},
    }
