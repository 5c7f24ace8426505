"""What a run delivers, built once per send from its complete report: the summary, the links, the CSV, the body.

Every channel says the same thing: the period report's summary
(:func:`reports.period_summary.period_summary`), a link to its page in the
portal (for a member with a login), and a signed link to its CSV that works
without one (:mod:`reports.download_links`). An email attaches the CSV when
it is at most ``DELIVERY_ATTACH_MAX_BYTES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from reports.download_links import signed_download_url
from reports.models import Report
from reports.period_summary import PeriodSummary, period_summary
from subscriptions.cadence import Cadence
from subscriptions.models import SubscriptionRun

EVENT_TYPE = "report.completed"


def period_label(cadence: Cadence, start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """How a person names the period: ``Mon 30 Nov 2026``, ``week of Mon 23 Nov 2026``, ``November 2026``."""
    first = start.astimezone(tz)
    if cadence is Cadence.MONTHLY:
        return first.strftime("%B %Y")
    if cadence is Cadence.WEEKLY:
        last = (end.astimezone(tz) - timedelta(days=1)).strftime("%a %d %b %Y")
        return f"week of {first.strftime('%a %d %b %Y')} to {last}"
    return first.strftime("%a %d %b %Y")


@dataclass(frozen=True, slots=True)
class Content:
    run: SubscriptionRun
    report: Report
    summary: PeriodSummary
    period: str
    report_url: str
    download_url: str
    csv_name: str
    csv_bytes: bytes | None
    """``None`` when the CSV is larger than the attachment limit: the email links it instead."""

    @property
    def subject(self) -> str:
        organization = self.run.subscription.organization
        if self.summary.uptime_percent is None:
            return f"{organization.name}: no data during business hours, {self.period}"
        return f"{organization.name}: {self.summary.uptime_percent_text} % uptime, {self.period}"

    def webhook_body(self) -> bytes:
        """The thin JSON event of Standard Webhooks: what happened, and where to fetch the rest."""
        report = self.report
        event = {
            "type": EVENT_TYPE,
            "timestamp": (report.finished_at or report.created_at).isoformat(),
            "data": {
                "report_id": report.id,
                "organization": self.run.subscription.organization.slug,
                "start": self.run.start.isoformat(),
                "end": self.run.end.isoformat(),
                "rows": report.rows,
                "summary": self.summary.as_json(),
                "download_url": self.download_url,
            },
        }
        return json.dumps(event, separators=(",", ":")).encode()


def run_content(run: SubscriptionRun) -> Content:
    """Raises ``FileNotFoundError`` when the report or its CSV is no longer stored (retention)."""
    report = run.report
    if report is None or report.status != Report.Status.COMPLETE:
        raise FileNotFoundError(f"run {run.id} has no complete report any more")
    subscription = run.subscription
    summary = period_summary(report)
    size = report.csv_file.size
    csv_bytes = None
    if size <= settings.DELIVERY_ATTACH_MAX_BYTES:
        with report.csv_file.open("rb") as stored:
            csv_bytes = stored.read()
    return Content(
        run=run,
        report=report,
        summary=summary,
        period=period_label(Cadence(subscription.cadence), run.start, run.end, ZoneInfo(subscription.timezone)),
        report_url=settings.SITE_URL.rstrip("/")
        + reverse("portal:report", args=[subscription.organization.slug, report.id]),
        download_url=signed_download_url(report.id),
        csv_name=f"uptime-{subscription.organization.slug}-{run.start.astimezone(ZoneInfo(subscription.timezone)):%Y-%m-%d}.csv",
        csv_bytes=csv_bytes,
    )
