"""Every API error is JSON with a one-line ``detail`` a person can act on.

DRF already answers its own exceptions in JSON; this adds a readable
``detail`` to field validation errors (which DRF returns as a bare
``{field: [messages]}`` map) and keeps the per-field map under ``errors``.
Django's own refusals of an oversized body (too many bytes or fields),
which it would answer with a bare HTML "Bad Request (400)", become JSON too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.template.defaultfilters import filesizeformat
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def body_too_large() -> PayloadTooLarge:
    limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
    return PayloadTooLarge(f"the request body is larger than {limit}, the most this API accepts")


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        exc = body_too_large()
    elif isinstance(exc, TooManyFieldsSent):
        exc = ParseError(f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields")
    elif isinstance(exc, TooManyFilesSent):
        exc = ParseError(f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files")
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError) and isinstance(response.data, dict):
        messages = [f"{field}: {' '.join(map(str, errors))}" for field, errors in response.data.items()]
        response.data = {"detail": "; ".join(messages), "errors": response.data}
    return response
