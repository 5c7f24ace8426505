"""The report commands: ``build_report``, ``cleanup_reports`` and ``demo_user``."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from reports.models import Report
from tests.reports.conftest import CSV_AT_NOW, CSV_TWO_DAYS_AGO

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_reports")]


class TestBuildReport:
    def test_it_writes_the_report_for_the_latest_poll_to_stdout(
        self, week_of_polls: datetime, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stderr = io.StringIO()

        call_command("build_report", stderr=stderr)

        assert capsys.readouterr().out == CSV_AT_NOW
        assert "report: 5 rows, now=2023-01-25T12:00:00+00:00" in stderr.getvalue()

    @pytest.mark.parametrize("as_of", ["2023-01-23 12:00:00", "2023-01-23 12:00:00 UTC", "2023-01-23T13:00:00+01:00"])
    def test_as_of_is_read_as_utc_unless_it_names_an_offset(
        self, week_of_polls: datetime, tmp_path: Path, as_of: str
    ) -> None:
        output = tmp_path / "report.csv"

        call_command("build_report", "--as-of", as_of, "--output", str(output), stderr=io.StringIO())

        assert output.read_text(encoding="utf-8") == CSV_TWO_DAYS_AGO

    @pytest.mark.parametrize("as_of", ["yesterday", "2023-13-01", "25/01/2023 12:00", "2023-01-23T12:00:00Z\x00junk"])
    def test_a_bad_as_of_is_a_command_error(self, week_of_polls: datetime, as_of: str) -> None:
        with pytest.raises(CommandError, match=re.escape(f"--as-of {as_of!r} is not a time like")):
            call_command("build_report", "--as-of", as_of, stderr=io.StringIO())

    def test_no_polls_is_a_command_error(self) -> None:
        with pytest.raises(CommandError, match="there are no polls in the database yet"):
            call_command("build_report", stderr=io.StringIO())

    def test_an_unwritable_output_is_a_command_error(self, week_of_polls: datetime, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="cannot write"):
            call_command("build_report", "--output", str(tmp_path / "missing" / "report.csv"), stderr=io.StringIO())

    def test_the_chunk_size_does_not_change_the_csv(self, week_of_polls: datetime, tmp_path: Path) -> None:
        one, many = tmp_path / "one.csv", tmp_path / "many.csv"

        call_command("build_report", "--output", str(one), "--chunk-size", "1", stderr=io.StringIO())
        call_command("build_report", output=many, stderr=io.StringIO())

        assert one.read_text(encoding="utf-8") == many.read_text(encoding="utf-8") == CSV_AT_NOW


class TestCleanupReports:
    def finished_report(self, status: Report.Status, age: timedelta) -> Report:
        report = Report.objects.create(as_of=timezone.now(), status=status, finished_at=timezone.now())
        report.csv_file.save(f"report-{report.id}.csv", ContentFile(b"store_id\n"), save=True)
        Report.objects.filter(id=report.id).update(created_at=timezone.now() - age)
        return report

    def test_it_deletes_old_finished_reports_and_their_files(self, isolated_reports: Path) -> None:
        old_complete = self.finished_report(Report.Status.COMPLETE, age=timedelta(days=31))
        old_failed = self.finished_report(Report.Status.FAILED, age=timedelta(days=40))
        recent = self.finished_report(Report.Status.COMPLETE, age=timedelta(days=29))
        old_running = Report.objects.create(as_of=timezone.now(), status=Report.Status.RUNNING)
        Report.objects.filter(id=old_running.id).update(created_at=timezone.now() - timedelta(days=60))
        old_file = Path(old_complete.csv_file.path)
        assert old_file.is_relative_to(isolated_reports)
        assert old_file.exists()
        stdout = io.StringIO()

        call_command("cleanup_reports", "--days", "30", stdout=stdout)

        assert stdout.getvalue() == "deleted 2 report(s) older than 30 day(s)\n"
        assert set(Report.objects.values_list("id", flat=True)) == {recent.id, old_running.id}
        assert not old_file.exists()
        assert not Path(old_failed.csv_file.path).exists()
        assert Path(recent.csv_file.path).exists()

    def test_it_deletes_the_stored_extended_csv_too(self) -> None:
        report = self.finished_report(Report.Status.COMPLETE, age=timedelta(days=31))
        report.extended_csv_file.save(f"report-{report.id}-extended.csv", ContentFile(b"store_id\n"), save=False)
        Report.objects.filter(id=report.id).update(extended_csv_file=report.extended_csv_file.name)
        extended = Path(report.extended_csv_file.path)

        call_command("cleanup_reports", stdout=io.StringIO())

        assert not Report.objects.exists()
        assert not extended.exists()

    def test_its_default_age_is_report_retention_days(self) -> None:
        kept = self.finished_report(Report.Status.COMPLETE, age=timedelta(days=29))
        self.finished_report(Report.Status.COMPLETE, age=timedelta(days=31))
        stdout = io.StringIO()

        call_command("cleanup_reports", stdout=stdout)

        assert stdout.getvalue() == "deleted 1 report(s) older than 30 day(s)\n"
        assert list(Report.objects.values_list("id", flat=True)) == [kept.id]

    def test_a_report_whose_file_is_already_gone_is_still_deleted(self) -> None:
        report = self.finished_report(Report.Status.COMPLETE, age=timedelta(days=31))
        Path(report.csv_file.path).unlink()

        call_command("cleanup_reports", stdout=io.StringIO())

        assert not Report.objects.exists()


class TestDemoUser:
    @pytest.fixture(autouse=True)
    def debug_on(self, settings: Settings) -> None:
        """A local run, as ``make run`` makes it; pytest-django runs tests with DEBUG off."""
        settings.DEBUG = True

    def test_it_refuses_to_run_with_debug_off(self, settings: Settings) -> None:
        settings.DEBUG = False

        with pytest.raises(CommandError, match="only with DEBUG=1"):
            self.run_demo_user()

        assert not get_user_model().objects.exists()

    def run_demo_user(self) -> str:
        stdout = io.StringIO()
        call_command("demo_user", "--base-url", "http://example.test:8000/", stdout=stdout)
        return stdout.getvalue()

    def printed_token(self, output: str) -> str:
        found = re.search(r"API token\s+([0-9a-f]{40})\n", output)
        assert found is not None, output
        return found.group(1)

    def test_it_prints_a_token_that_works_against_the_api(self, week_of_polls: datetime) -> None:
        output = self.run_demo_user()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.printed_token(output)}")

        trigger = client.post("/trigger_report")
        poll = client.get("/get_report", {"report_id": trigger.json()["report_id"]})

        assert trigger.status_code == 202
        assert poll.status_code == 200
        assert "curl -s -X POST" in output
        assert "http://example.test:8000/trigger_report" in output

    def test_running_it_again_reuses_the_user_token_and_password(self) -> None:
        first = self.printed_token(self.run_demo_user())
        user = get_user_model().objects.get(username="demo")
        user.set_password("changed by its owner")
        user.save()

        second = self.printed_token(self.run_demo_user())

        assert first == second
        assert get_user_model().objects.filter(username="demo").count() == 1
        user.refresh_from_db()
        assert user.check_password("changed by its owner")
        assert user.is_superuser
