"""The report fixtures (polls, users, an isolated MEDIA_ROOT, a live qcluster) for the operations tests."""

from tests.reports.conftest import api_client, build_report_csv, user, week_of_polls
from tests.reports.test_qcluster_live import broker_env, qcluster

__all__ = ["api_client", "broker_env", "build_report_csv", "qcluster", "user", "week_of_polls"]
