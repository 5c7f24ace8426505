"""django-q2 tasks: thin calls of services, nothing else."""

from __future__ import annotations

from reports.services import report_run


def run_report(report_id: str) -> str:
    """Compute one report; returns its final status for django-q2's task log."""
    return report_run(report_id=report_id).status
