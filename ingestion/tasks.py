"""django-q2 tasks: thin calls of services, nothing else."""

from __future__ import annotations

from ingestion.inbox import inbox_scan_configured
from ingestion.runs import ingest_run_from_upload


def run_ingest(run_id: int) -> None:
    """Load a large upload that the API or the admin stored for a worker."""
    ingest_run_from_upload(run_id=run_id)


def scan_inbox() -> int:
    """Load the files waiting in ``INGEST_INBOX``; scheduled once a minute. Returns how many were loaded."""
    return len(inbox_scan_configured())
