"""One log line per request, under a request id that the answer carries too.

The id comes from the client's (or its proxy's) ``X-Request-ID`` when that
is a short printable token, so one id follows a request through the proxy's
log and ours; otherwise a new one is made. It is sent back in the
``X-Request-ID`` header of every answer, and an unexpected error's JSON
answer names it as its ``error_id`` (:mod:`loopmonitor.exceptions`), so the
id a user quotes finds both the request line and the traceback.

The same middleware counts the request for Prometheus
(:mod:`operations.metrics`), by route, not by raw path, so ids in URLs do not
make a series each.

``LOG_FORMAT=json`` formats every log record (these lines, Django's, the
workers') as one JSON object per line with :class:`JsonFormatter`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from operations.metrics import request_observe

logger = logging.getLogger("loopmonitor.request")

#: An incoming id is kept only if it cannot forge log lines or bloat them.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id_of(request: HttpRequest) -> str | None:
    """The id :class:`RequestLogMiddleware` gave this request (None outside of a request through it)."""
    return getattr(request, "request_id", None)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


def _user_id(request: HttpRequest) -> int | None:
    """The authenticated user's id, only if something already looked the user up (a probe must not)."""
    user = vars(request).get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """First in ``MIDDLEWARE``: it times and logs everything, the other middlewares' own answers included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _ACCEPTED_ID.fullmatch(incoming) else secrets.token_hex(8)
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        response["X-Request-ID"] = request_id
        route = _route(request)
        request_observe(method=request.method or "", route=route, status=response.status_code, seconds=seconds)
        logger.info(
            "%s %s %s %.1f ms request_id=%s",
            request.method,
            request.path,
            response.status_code,
            seconds * 1000,
            request_id,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": _user_id(request),
            },
        )
        return response


#: Attributes every LogRecord has; whatever else a record carries came in ``extra`` and is kept.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, the ``extra`` fields and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
