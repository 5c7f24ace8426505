"""Links into the reports admin from other apps' admin pages, without those apps importing reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template

from reports.admin import store_page_url
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
    return StorePageLink(url=store_page_url(report.id, store_id), report_id=report.id, as_of=report.as_of)
