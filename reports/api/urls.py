"""The report API; each path answers with and without a trailing slash."""

from django.urls import re_path

from reports.api import outages as api_outages
from reports.api import views

urlpatterns = [
    re_path(r"^trigger_report/?$", views.TriggerReportView.as_view(), name="trigger_report"),
    re_path(r"^get_report/?$", views.GetReportView.as_view(), name="get_report"),
    re_path(r"^reports/?$", views.ReportListView.as_view(), name="report_list"),
    re_path(
        r"^reports/(?P<report_id>[A-Za-z0-9_-]{16,43})/download/?$",
        views.DownloadReportView.as_view(),
        name="download_report",
    ),
    # A delivered report's signed link: no token needed, refused once altered or expired.
    re_path(
        r"^downloads/(?P<token>[A-Za-z0-9_:-]{20,200})/?$",
        views.SignedDownloadView.as_view(),
        name="signed_download",
    ),
    # Store ids are opaque printable text, so a store id may itself hold a slash.
    re_path(r"^stores/(?P<store_id>.+)/outages/?$", api_outages.StoreOutagesView.as_view(), name="store_outages"),
]
