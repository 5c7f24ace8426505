"""django-q2 tasks: thin calls of services, nothing else."""

from __future__ import annotations

from reports.extended_csv import report_extended_csv_store
from reports.fanout.plan import report_plan
from reports.fanout.recovery import reports_recover_all
from reports.fanout.shards import shard_run
from reports.retention import data_prune


def run_report(report_id: str) -> None:
    """Plan a triggered report and queue its shards."""
    report_plan(report_id=report_id)


def run_shard(shard_id: int) -> None:
    """Compute one shard of a report (and assemble the report after its last shard)."""
    shard_run(shard_id=shard_id)


def recover_reports() -> int:
    """Re-queue work abandoned by dead workers; scheduled once a minute."""
    return reports_recover_all()


def store_extended_csv(report_id: str) -> None:
    """Compute and store a complete report's extended CSV; queued by its assembly."""
    report_extended_csv_store(report_id=report_id)


def prune_old_data() -> str:
    """Enforce poll and report retention; scheduled daily."""
    return data_prune().summary()
