"""``/healthz``, ``/readyz`` and ``/metrics``: plain Django views, outside DRF's authentication and throttles.

Probes must neither need a token nor be answered 429 under load, which is
when they matter most.
"""

from __future__ import annotations

import ipaddress
import os
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from operations.collectors import DatabaseCollector
from operations.health import readiness

_DATABASE_REGISTRY = CollectorRegistry()
_DATABASE_REGISTRY.register(DatabaseCollector())


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if ready else "failed", "checks": checks}, status=200 if ready else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """The bearer token, or a loopback client that no proxy forwarded (a proxy on this host is loopback too)."""
    token = settings.METRICS_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _process_registry() -> CollectorRegistry:
    """Every process's counts when gunicorn and qcluster share PROMETHEUS_MULTIPROC_DIR, else this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = JsonResponse({"detail": "metrics need `Authorization: Bearer <METRICS_TOKEN>`"}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    body = generate_latest(_process_registry()) + generate_latest(_DATABASE_REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
