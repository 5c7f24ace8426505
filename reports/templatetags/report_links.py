"""Links into the reports admin from other apps' admin pages, without those apps importing reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.urls import reverse

from reports.models import Report

register = template.Library()


@dataclass(frozen=True, slots=True)
class StorePageLink:
    url: str
    report_id: str
    as_of: datetime


@register.simple_tag
def latest_report_store_page(store_id: str) -> StorePageLink | None:
    """The store's page in the latest complete report (by ``as_of``), or ``None`` before any report."""
    report = (
        Report.objects.filter(status=Report.Status.COMPLETE, as_of__isnull=False)
        .order_by("-as_of", "-created_at")
        .only("id", "as_of")
        .first()
    )
    if report is None or report.as_of is None:
        return None
    url = reverse("admin:reports_report_store", args=[report.id, store_id])
    return StorePageLink(url=url, report_id=report.id, as_of=report.as_of)
