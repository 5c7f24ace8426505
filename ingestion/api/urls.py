"""The ingestion API; each path answers with and without a trailing slash."""

from django.urls import re_path

from ingestion.api import views
from ingestion.kinds import INGEST_KINDS

urlpatterns = [
    re_path(r"^ingest/runs/?$", views.IngestRunListView.as_view(), name="ingest_runs"),
    re_path(r"^ingest/runs/(?P<run_id>[0-9]{1,18})/?$", views.IngestRunDetailView.as_view(), name="ingest_run"),
    re_path(
        r"^ingest/runs/(?P<run_id>[0-9]{1,18})/rejects/?$",
        views.IngestRunRejectsView.as_view(),
        name="ingest_run_rejects",
    ),
    *(
        re_path(rf"^ingest/{name}/?$", views.IngestFileView.as_view(kind=name), name=f"ingest_{name}")
        for name in INGEST_KINDS
    ),
]
