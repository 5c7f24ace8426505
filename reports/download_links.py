"""Signed download links: a report's CSV for whoever holds the link, for ``SIGNED_DOWNLOAD_DAYS`` (7) days.

A delivered report (email, webhook) links its CSV so that the receiving
system can fetch it without an API token. The link is the report id signed
with the ``SECRET_KEY`` and the time it was made (Django's
:class:`~django.core.signing.TimestampSigner`); an altered or expired link is
refused. It opens this one file only: every other report URL keeps its auth.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "reports.signed-download"


class LinkRefused(Exception):
    """The link was altered, or it expired; the message says which."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def signed_download_url(report_id: str) -> str:
    """The absolute link, on ``SITE_URL``: workers build it without a request."""
    token = _signer().sign(report_id)
    return settings.SITE_URL.rstrip("/") + reverse("signed_download", args=[token])


def signed_report_id(token: str) -> str:
    """The report id a link was made for; :class:`LinkRefused` when it was altered or is too old."""
    try:
        return _signer().unsign(token, max_age=timedelta(days=settings.SIGNED_DOWNLOAD_DAYS))
    except signing.SignatureExpired:
        raise LinkRefused(f"this download link expired (links last {settings.SIGNED_DOWNLOAD_DAYS} days)") from None
    except signing.BadSignature:
        raise LinkRefused("this download link is not valid (altered or incomplete)") from None
