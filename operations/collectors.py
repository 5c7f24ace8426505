"""Report, shard and queue figures for Prometheus, read from the database at each scrape.

Reports are computed by whichever qcluster worker claims a shard, and a
task may run twice; the database is the one place that knows what happened,
whatever process did it. So the counts are queries, not counters a process
increments. Reports removed by ``cleanup_reports`` leave the counts, which
Prometheus' ``rate()`` reads as a counter reset.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, F, Q, Sum
from django_q.brokers import get_broker
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from reports.models import Report, ReportShard

DURATION_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


def _duration_histogram() -> HistogramMetricFamily:
    durations = sorted(
        (finished - created).total_seconds()
        for created, finished in Report.objects.filter(status=Report.Status.COMPLETE, finished_at__isnull=False)
        .values_list("created_at", "finished_at")
        .iterator()
        if finished is not None
    )
    buckets = [(str(bound), sum(1 for seconds in durations if seconds <= bound)) for bound in DURATION_BUCKETS]
    buckets.append(("+Inf", len(durations)))
    return HistogramMetricFamily(
        "loopmonitor_report_duration_seconds",
        "Seconds from trigger to Complete, of the complete reports stored.",
        buckets=buckets,
        sum_value=sum(durations),
    )


class DatabaseCollector:
    def collect(self) -> Iterator[Metric]:
        counts = Report.objects.aggregate(
            triggered=Count("id"),
            completed=Count("id", filter=Q(status=Report.Status.COMPLETE)),
            failed=Count("id", filter=Q(status=Report.Status.FAILED)),
            unfinished=Count("id", filter=Q(status__in=[Report.Status.PENDING, Report.Status.RUNNING])),
        )
        for name, help_text in (
            ("triggered", "Reports triggered (of those stored)."),
            ("completed", "Reports that ended Complete."),
            ("failed", "Reports that ended Failed."),
        ):
            yield CounterMetricFamily(f"loopmonitor_reports_{name}", help_text, value=counts[name])
        yield GaugeMetricFamily("loopmonitor_reports_unfinished", "Reports Pending or Running.", counts["unfinished"])
        yield _duration_histogram()
        retried = (
            ReportShard.objects.aggregate(retries=Sum(F("attempts") - 1, filter=Q(attempts__gt=1)))["retries"] or 0
        )
        yield CounterMetricFamily(
            "loopmonitor_report_shards_retried",
            "Shard claims beyond each shard's first (a worker died or timed out).",
            value=retried,
        )
        yield GaugeMetricFamily(
            "loopmonitor_queue_depth", "Tasks waiting in the django-q2 queue.", get_broker().queue_size()
        )
