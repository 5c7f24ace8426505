"""Every API error is JSON with a one-line ``detail`` a person can act on.

DRF already answers its own exceptions in JSON; this adds a readable
``detail`` to field validation errors (which DRF returns as a bare
``{field: [messages]}`` map) and keeps the per-field map under ``errors``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError) and isinstance(response.data, dict):
        messages = [f"{field}: {' '.join(map(str, errors))}" for field, errors in response.data.items()]
        response.data = {"detail": "; ".join(messages), "errors": response.data}
    return response
