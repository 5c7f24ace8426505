"""The reports admin: the list of report runs, a report's page, and a store's week in a report.

* **List**: status, ``as_of``, timings, rows, progress and a download link;
  filtered by status; a **Run a report** button (POST) triggers one as the
  API does. Reports are made by that button or ``POST /trigger_report`` and
  removed by ``manage.py cleanup_reports`` (which deletes their files too),
  so the admin neither adds, edits nor deletes them.
* **Report page** (the change view, read-only): for a complete report,
  totals, a histogram of stores by weekly uptime, the 20 worst stores by
  weekly downtime and the first rows, all read from the stored CSV
  (:mod:`reports.presentation.overview`); then the run's details and its shards.
* **Store page** (``<report id>/stores/<store id>/``): the store's week as the
  report computed it (:mod:`reports.outages`): totals next to the CSV row,
  a day-by-day timeline and the list of outages.

The page contexts are :mod:`reports.presentation.pages`'s, shared with the
owner portal; charts are inline SVG, no script, nothing fetched, so the pages
work offline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from reports.fanout.queue import TooManyUnfinished, report_trigger
from reports.models import Report, ReportShard
from reports.presentation.durations import duration_text
from reports.presentation.pages import (
    report_overview_context,
    store_id_from_url,
    store_url_segment,
    store_week_context,
)
from reports.presentation.period_report import period_report_context, period_store_page
from reports.selectors import reports_visible_to
from reports.services import NoPollsError
from stores.admin import StorePageLink, store_page_links
from stores.models import Store


def store_page_url(report_id: str, store_id: str) -> str:
    """The admin page of a store's week in a report: build every link to it here."""
    return reverse("admin:reports_report_store", args=[report_id, store_url_segment(store_id)])


def _moment(moment: datetime | None, *, same_day_as: datetime | None = None) -> str:
    """A compact UTC time for the list; the date is left out when it is the report's creation date."""
    if moment is None:
        return "—"
    moment = moment.astimezone(UTC)
    if same_day_as is not None and moment.date() == same_day_as.astimezone(UTC).date():
        return f"{moment:%H:%M:%S}"
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def elapsed_text(elapsed: timedelta) -> str:
    """A run's duration for the list: tenths of a second when short, hours and minutes when long."""
    seconds = elapsed.total_seconds()
    return f"{seconds:.1f} s" if seconds < 60 else duration_text(Fraction(seconds))


class ReportShardInline(admin.TabularInline):  # type: ignore[type-arg]
    """A report's shards, read-only; their inputs and rows (large) are not loaded."""

    model = ReportShard
    fields = (
        "plan_attempt",
        "index",
        "stores",
        "status",
        "attempts",
        "claimed_by",
        "claimed_at",
        "finished_at",
        "seconds",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportShard]:
        return super().get_queryset(request).defer("inputs", "rows_csv")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "organization",
        "status",
        "kind",
        "as_of_shown",
        "created",
        "started",
        "finished",
        "duration",
        "rows",
        "progress_shown",
        "download",
    )
    list_filter = ("status", "kind", ("organization", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=id",)
    search_help_text = "Exact report id."
    list_select_related = ("requested_by", "organization")
    inlines = (ReportShardInline,)
    change_form_template = "admin/reports/report/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "organization",
                    "status",
                    "kind",
                    "as_of",
                    "start",
                    "end",
                    "sla_target",
                    "requested_by",
                    "rows",
                    "download",
                    "error",
                )
            },
        ),
        ("Run", {"fields": ("created_at", "started_at", "finished_at", "duration", "progress_shown")}),
        (
            "Fan-out",
            {
                "fields": ("stores_total", "stores_done", "shards_total", "shards_done", "max_poll_id"),
                "classes": ("collapse",),
            },
        ),
    )
    readonly_fields = (
        "id",
        "organization",
        "status",
        "kind",
        "start",
        "end",
        "sla_target",
        "as_of",
        "requested_by",
        "rows",
        "download",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "progress_shown",
        "stores_total",
        "stores_done",
        "shards_total",
        "shards_done",
        "max_poll_id",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        # The one scoping rule, as the API's: the admin is staff's, who see every report.
        return reports_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        # Deleting the row here would leave its CSV behind; cleanup_reports deletes both.
        return False

    @admin.display(description="as of (UTC)", ordering="as_of")
    def as_of_shown(self, report: Report) -> str:
        return _moment(report.as_of)

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, report: Report) -> str:
        return _moment(report.created_at)

    @admin.display(description="started", ordering="started_at")
    def started(self, report: Report) -> str:
        return _moment(report.started_at, same_day_as=report.created_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, report: Report) -> str:
        return _moment(report.finished_at, same_day_as=report.created_at)

    @admin.display(description="duration")
    def duration(self, report: Report) -> str:
        if report.started_at is None:
            return "—"
        if report.finished_at is None:
            return "running"
        return elapsed_text(report.finished_at - report.started_at)

    @admin.display(description="progress")
    def progress_shown(self, report: Report) -> str:
        if report.status == Report.Status.COMPLETE:
            return "100%"
        if report.status == Report.Status.RUNNING and report.planned_at is None:
            return f"planning ({report.shards_done} shards done so far)"  # the totals come with the plan's end
        return f"{report.progress:.0%} ({report.shards_done}/{report.shards_total} shards)"

    @admin.display(description="CSV")
    def download(self, report: Report) -> str:
        if report.status != Report.Status.COMPLETE:
            return "—"
        url = reverse("download_report", args=[report.id])
        if report.is_period:
            return format_html('<a href="{}">download</a>', url)
        return format_html('<a href="{}">download</a> · <a href="{}?columns=extended">extended</a>', url, url)

    def get_urls(self) -> list[URLPattern]:
        store_page = path(
            "<str:report_id>/stores/<path:store_id>/",
            self.admin_site.admin_view(self.store_view),
            name="reports_report_store",
        )
        run = path("run/", self.admin_site.admin_view(self.run_view), name="reports_report_run")
        return [store_page, run, *super().get_urls()]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """The list's "Run a report" button: the API's trigger (latest data, this user), then the report's page.

        POST only, so the admin's CSRF check guards it; a GET (a link, a
        prefetch) must not start a computation.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = request.user if isinstance(request.user, User) else None
        try:
            triggered = report_trigger(as_of=None, requested_by=user)
        except (NoPollsError, TooManyUnfinished) as error:
            self.message_user(request, f"No report was started: {error}.", messages.ERROR)
            return redirect("admin:reports_report_changelist")
        report = triggered.report
        if triggered.reused:
            self.message_user(request, f"Nothing has changed since report {report.id} was triggered: here it is.")
        else:
            self.message_user(request, f"Report {report.id} is running; this page shows it once it is complete.")
        return redirect("admin:reports_report_change", quote(report.id))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        report = self.get_object(request, unquote(object_id))
        if report is not None and report.status == Report.Status.COMPLETE:
            context |= self._period_context(report) if report.is_period else self._overview_context(report)
        return super().change_view(request, object_id, form_url, context)

    def _period_context(self, report: Report) -> dict[str, Any]:
        return period_report_context(
            report,
            store_url=lambda store_id: store_page_url(report.id, store_id),
            download_url=reverse("download_report", args=[report.id]),
        )

    def _overview_context(self, report: Report) -> dict[str, Any]:
        download = reverse("download_report", args=[report.id])
        return report_overview_context(
            report,
            store_url=lambda store_id: store_page_url(report.id, store_id),
            download_url=download,
            extended_download_url=f"{download}?columns=extended",
        )

    def store_view(self, request: HttpRequest, report_id: str, store_id: str) -> HttpResponse:
        """A store's week in a report: totals beside the CSV row, the timeline, the outages."""
        store_id = store_id_from_url(store_id)
        report = get_object_or_404(reports_visible_to(request.user), id=report_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        if report.as_of is None:
            raise Http404("this report has no as_of yet")
        if report.is_period:
            return self._period_store_view(request, report, store_id)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            **store_week_context(report, store_id),
            "opts": self.model._meta,
            "title": f"Store {store_id}",
            "subtitle": f"report {report.id}, as of {report.as_of:%Y-%m-%d %H:%M:%S} UTC",
            "store_change_url": _store_change_url(store_id),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reports/report/store_week.html", context)

    def _period_store_view(self, request: HttpRequest, report: Report, store_id: str) -> HttpResponse:
        """A store's outages over a period report's period."""
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "report": report,
            "store_id": store_id,
            "title": f"Store {store_id}",
            "subtitle": f"report {report.id}, {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
            "store_page": period_store_page(report, store_id),
            "store_change_url": _store_change_url(store_id),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/reports/report/period_store.html", context)


def _store_change_url(store_id: str) -> str:
    return reverse("admin:stores_store_change", args=[quote(store_id)])


def latest_report_store_link(store: Store) -> StorePageLink | None:
    """The store's week in the latest complete report (by ``as_of``), for its admin page; none before any report."""
    # The fleet's reports and its organization's hold the store; another organization's never do.
    covering = Q(organization__isnull=True) | Q(organization_id=store.organization_id)
    report = (
        Report.objects.filter(covering, status=Report.Status.COMPLETE, as_of__isnull=False)
        .order_by("-as_of", "-created_at")
        .only("id", "as_of")
        .first()
    )
    if report is None or report.as_of is None:
        return None
    return StorePageLink(
        id="store-timeline-link",
        text=f"Timeline and outages (report as of {report.as_of:%Y-%m-%d %H:%M} UTC)",
        url=store_page_url(report.id, store.pk),
    )


store_page_links.append(latest_report_store_link)
