"""Every API error is JSON with a one-line ``detail`` a person can act on.

DRF already answers its own exceptions in JSON; this adds a readable
``detail`` to field validation errors (which DRF returns as a bare
``{field: [messages]}`` map) and keeps the per-field map under ``errors``.
Django's own refusals of an oversized body (too many bytes or fields),
which it would answer with a bare HTML "Bad Request (400)", become JSON too.

**Unexpected errors** (a database that is down, a bug) are answered by
:class:`JsonErrorsMiddleware` on every API path, ``DEBUG`` on or off: a JSON
500 whose ``detail`` carries an error id and nothing of the exception, whose
text can name database hosts, users and paths. The traceback goes to the log
under that id. The same middleware turns Django's HTML error pages on API
paths (a 404 for a path no route matches, Django's debug pages) into JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponseBase, JsonResponse
from django.template.defaultfilters import filesizeformat
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from loopmonitor.error_ids import logged_error_id


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


#: Pages for people in a browser, which keep Django's HTML error pages; every other path is the API.
BROWSER_PATH_PREFIXES = ("/admin/", "/api-auth/", "/unsubscribe/")
#: The owner portal's pages (``portal.urls``): its home is ``/`` itself, the rest sits under these.
PORTAL_PATH_PREFIXES = ("/login/", "/logout/", "/o/")

#: Exceptions Django itself answers with a 4xx (then made JSON on API paths), not unexpected errors.
DJANGO_CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


def is_api_path(path: str) -> bool:
    return not (path == "/" or path.startswith(BROWSER_PATH_PREFIXES + PORTAL_PATH_PREFIXES))


def internal_error_response(request: HttpRequest, exception: BaseException | None) -> JsonResponse:
    """A JSON 500 that names an error id, and the log line (with the traceback, if given) under that id."""
    cause = type(exception).__name__ if exception else "a 500 from Django (its traceback is logged just before)"
    # The request's own id (loopmonitor.request_log): the request's log line and the traceback share it.
    error_id = logged_error_id(
        f"{request.method} {request.path} failed with {cause}", exception, error_id=getattr(request, "request_id", None)
    )
    detail = f"internal server error; it was logged as error {error_id}, quote this id when you report it"
    return JsonResponse({"detail": detail, "error_id": error_id}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


class JsonErrorsMiddleware:
    """On API paths, answer unexpected errors and Django's HTML error pages as JSON, whatever ``DEBUG`` says.

    First in ``MIDDLEWARE``, so it also sees what the other middleware answer.
    ``process_exception`` runs before Django would render its debug page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request.path_info) or _is_json(response):
            return response
        if isinstance(response, Response):
            return response  # DRF's own answer (JSON, or the browsable page a browser asked for)
        if response.status_code >= 500:
            return internal_error_response(request, None)
        return JsonResponse({"detail": _reason(response.status_code)}, status=response.status_code)

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        if not is_api_path(request.path_info) or isinstance(exception, DJANGO_CLIENT_ERRORS):
            return None
        return internal_error_response(request, exception)


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower()
    except ValueError:
        return f"error {status_code}"


def _is_json(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
