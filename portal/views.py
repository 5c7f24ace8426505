"""The owner portal: a dashboard per organization, its reports, a report's page, a store's week, CSV downloads.

Server-rendered pages for members with a session. Every read goes through
:mod:`portal.selectors` (the scoping function), so another organization's
report or store answers 404 like a missing one. The page contexts are
:mod:`reports.presentation.pages`'s, the same as the admin's. Running a report
is a plain form POST (CSRF-protected) that redirects back to the dashboard;
an unfinished report's page refreshes itself without JavaScript, and with it a
small script polls :func:`report_status` and swaps the finished page in.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from operations.throttling import ScopedRateThrottle
from organizations.models import Organization
from organizations.scoping import may_trigger, organizations_visible_to, role_in
from portal.selectors import organization_for, organization_reports, report_for, store_for
from reports.downloads import report_csv_download
from reports.engine.calendar_periods import PeriodName
from reports.extended_csv import ExtendedCsvUnavailable
from reports.fanout.queue import TooManyUnfinished, report_trigger, report_trigger_period
from reports.fanout.recovery import report_recover
from reports.models import Report
from reports.period_services import BadPeriod
from reports.presentation.pages import (
    report_overview_context,
    store_id_from_url,
    store_url_segment,
    store_week_context,
)
from reports.presentation.period_report import period_report_context, period_store_page
from reports.services import NoPollsError

REPORTS_PER_PAGE = 20
#: Seconds between refreshes of a page that shows an unfinished report, with or without JavaScript.
REFRESH_SECONDS = 2
#: The periods the dashboard offers beside the fixed report (README, "Period reports"), with their labels.
RUN_PERIODS: dict[PeriodName, str] = {"last_30_days": "the last 30 days", "previous_month": "the previous month"}


class _TriggerScope:
    """What DRF's scoped throttle reads of a view: the API's trigger scope, so a user has one budget for both."""

    throttle_scope = "trigger_report"


def store_url(organization: Organization, report_id: str, store_id: str) -> str:
    """The portal page of a store's week in a report: build every link to it here."""
    return reverse("portal:store", args=[organization.slug, report_id, store_url_segment(store_id)])


def frame(request: HttpRequest, organization: Organization, nav: str) -> dict[str, Any]:
    """What every page of an organization shows around its content: the organization, the user's role, the switcher."""
    return {
        "nav": nav,
        "organization": organization,
        "organizations": organizations_visible_to(request.user),
        "role": role_in(request.user, organization),
        "may_run": may_trigger(request.user, organization),
        "run_periods": RUN_PERIODS,
    }


def _overview(organization: Organization, report: Report) -> dict[str, Any]:
    """A complete report's sections: the fixed report's overview, or a period report's page."""
    if report.is_period:
        return period_report_context(
            report,
            store_url=lambda store_id: store_url(organization, report.id, store_id),
            download_url=reverse("portal:csv", args=[organization.slug, report.id]),
        )
    return report_overview_context(
        report,
        store_url=lambda store_id: store_url(organization, report.id, store_id),
        download_url=reverse("portal:csv", args=[organization.slug, report.id]),
        extended_download_url=reverse("portal:extended_csv", args=[organization.slug, report.id]),
    )


def _progress(organization: Organization, report: Report) -> dict[str, Any]:
    """An unfinished report for the progress panel, read again after recovery had a look (as the API's poll does).

    ``running`` is ``None`` once it has finished; ``run`` is the report as it is now.
    """
    report_recover(report)
    run = Report.objects.get(pk=report.pk)
    return {
        "run": run,
        "running": None if run.is_finished else run,
        "status_url": reverse("portal:status", args=[organization.slug, run.id]),
        "refresh_seconds": REFRESH_SECONDS,
    }


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The organization to show: the one asked for (``?organization=``), the only one, or a choice."""
    organizations = organizations_visible_to(request.user)
    asked = request.GET.get("organization")
    if asked:
        return redirect("portal:dashboard", slug=organization_for(request.user, asked).slug)
    if len(organizations) == 1:
        return redirect("portal:dashboard", slug=organizations[0].slug)
    return render(request, "portal/home.html", {"organizations": organizations})


@login_required
@require_safe
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest complete report at a glance, the run in progress if any, and the Run button for owners."""
    organization = organization_for(request.user, slug)
    reports = organization_reports(request.user, organization)
    latest = reports.first()
    complete = reports.filter(status=Report.Status.COMPLETE).first()
    context = frame(request, organization, "dashboard") | {"report": complete}
    if latest is not None and latest != complete:
        context |= _progress(organization, latest)
        if context["run"].status == Report.Status.COMPLETE:  # it finished just now
            complete = context["report"] = context["run"]
    if complete is not None:
        context |= _overview(organization, complete)
    return render(request, "portal/dashboard.html", context)


def refuse_over_rate(request: HttpRequest, organization: Organization) -> HttpResponse | None:
    """A 429 page once the user spent the API's per-user trigger rate (``TRIGGER_REPORT_RATE``); else ``None``.

    Every portal action that computes a report counts, together with ``POST /trigger_report``.
    """
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, _TriggerScope()):  # type: ignore[arg-type]
        return None
    seconds = max(1, math.ceil(throttle.wait()))  # rounded up, as DRF's Retry-After: a retry then is counted
    context = frame(request, organization, "dashboard") | {"retry_after": seconds}
    response = render(request, "portal/too_many_runs.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


@login_required
@require_POST
def run_report(request: HttpRequest, slug: str) -> HttpResponse:
    """Run the organization's report now (owners and staff); back to the dashboard, which shows its progress.

    An equal report on unchanged data (:func:`reports.fanout.queue.report_trigger`) is not run again: the
    answer is that report's page.

    Within the API's per-user trigger rate (``TRIGGER_REPORT_RATE``), counted together with ``POST /trigger_report``.
    """
    organization = organization_for(request.user, slug)
    if not may_trigger(request.user, organization):
        raise PermissionDenied("only the organization's owners run its reports")
    refused = refuse_over_rate(request, organization)
    if refused is not None:
        return refused
    user = request.user if isinstance(request.user, User) else None
    asked = request.POST.get("period") or None
    period = next((name for name in RUN_PERIODS if name == asked), None)
    if asked is not None and period is None:
        message = f"unknown period {asked[:50]!r}; choose one of {', '.join(RUN_PERIODS)}"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    try:
        if period is None:
            triggered = report_trigger(as_of=None, requested_by=user, organization=organization)
        else:
            triggered = report_trigger_period(as_of=None, name=period, requested_by=user, organization=organization)
        if triggered.reused:  # an equal report on unchanged data: show it rather than compute it again
            messages.info(request, "Nothing has changed since this report was run, so here it is.")
            return redirect("portal:report", slug=organization.slug, report_id=triggered.report.id)
    except BadPeriod as error:
        messages.error(request, f"That period cannot be reported on: {error}")
    except TooManyUnfinished as error:
        context = frame(request, organization, "dashboard") | {"retry_after": error.retry_after, "busy": True}
        response = render(request, "portal/too_many_runs.html", context, status=503)
        response["Retry-After"] = str(error.retry_after)
        return response
    except NoPollsError:
        messages.error(request, "There is no poll data yet, so there is nothing to report on.")
    return redirect("portal:dashboard", slug=organization.slug)


@login_required
@require_safe
def report_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_for(request.user, slug)
    page = Paginator(organization_reports(request.user, organization), REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "portal/report_list.html", frame(request, organization, "reports") | {"page": page})


@login_required
@require_safe
def report_page(request: HttpRequest, slug: str, report_id: str) -> HttpResponse:
    """A report's charts and downloads once complete; its progress until then."""
    organization = organization_for(request.user, slug)
    report = report_for(request.user, organization, report_id)
    context = frame(request, organization, "reports")
    if not report.is_finished:
        context |= _progress(organization, report)
        report = context["run"]
    context["report"] = report
    if report.status == Report.Status.COMPLETE:
        context |= _overview(organization, report)
    return render(request, "portal/report.html", context)


@login_required
@require_safe
def report_status(request: HttpRequest, slug: str, report_id: str) -> JsonResponse:
    """What the progress script polls: the status, the progress (0-1), and whether to stop polling."""
    organization = organization_for(request.user, slug)
    report = report_recover(report_for(request.user, organization, report_id))
    return JsonResponse(
        {
            "report_id": report.id,
            "status": report.status,
            "status_display": report.get_status_display(),
            "progress": round(report.progress, 4),
            "finished": report.is_finished,
            "report_url": reverse("portal:report", args=[organization.slug, report.id]),
        }
    )


def _download(request: HttpRequest, slug: str, report_id: str, *, extended: bool) -> HttpResponseBase:
    organization = organization_for(request.user, slug)
    report = report_for(request.user, organization, report_id)
    if report.status != Report.Status.COMPLETE:
        raise Http404("the report is not complete")
    try:
        return report_csv_download(report, extended=extended)
    except FileNotFoundError:
        problem, status = "The CSV of this report is no longer stored. Run a new report.", 410
    except ExtendedCsvUnavailable:
        problem, status = (
            "The extended CSV cannot be computed: the report's data changed since it ran. Run a new report.",
            409,
        )
    context = frame(request, organization, "reports") | {"report": report, "problem": problem}
    return render(request, "portal/download_problem.html", context, status=status)


@login_required
@require_safe
def report_csv(request: HttpRequest, slug: str, report_id: str) -> HttpResponseBase:
    return _download(request, slug, report_id, extended=False)


@login_required
@require_safe
def report_extended_csv(request: HttpRequest, slug: str, report_id: str) -> HttpResponseBase:
    return _download(request, slug, report_id, extended=True)


@login_required
@require_safe
def store_page(request: HttpRequest, slug: str, report_id: str, store_id: str) -> HttpResponse:
    """A store's week in one of the organization's reports: the timeline and the outages, as the admin shows them."""
    organization = organization_for(request.user, slug)
    report = report_for(request.user, organization, report_id)
    store = store_for(request.user, organization, store_id_from_url(store_id))
    if report.as_of is None:
        raise Http404("this report has no as_of yet")
    if report.is_period:
        context = frame(request, organization, "reports") | {
            "report": report,
            "store_id": store.pk,
            "store_page": period_store_page(report, store.pk),
        }
        return render(request, "portal/period_store.html", context)
    context = frame(request, organization, "reports") | store_week_context(report, store.pk)
    return render(request, "portal/store.html", context)
