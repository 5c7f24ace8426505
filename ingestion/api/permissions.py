"""Who may load data over the API: staff, and accounts holding the ingestion permission (the ``feed`` group)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ingestion.models import INGEST_PERMISSION


class CanIngest(BasePermission):
    message = "this account may not load data: it needs the ingestion permission (the feed group) or staff status"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.has_perm(INGEST_PERMISSION)))
